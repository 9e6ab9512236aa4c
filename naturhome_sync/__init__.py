"""naturhome-sync: keeps Naturhome's Salesforce org the complete, living record of every dossier."""

__version__ = "0.1.0"
