"""The demo data set of the emulated org: Naturhome's people, catalogue, clients and sites.

Loaded through the emulator's ``POST /__sandbox/load`` (records in order, ``@ref`` links).
Kept small and plausible: a sales rep who owns new leads, three estimators covering
Belgium, Luxembourg, France and Germany with their capacities, a billing manager and a site
manager, the work-item catalogue with a billing-plan template per item, and three clients
whose dossiers are at different stages (so the estimators already carry some load).
Later chapters of the demo add to it; nothing here is needed by the tests of the flows,
which build their own data.
"""

from __future__ import annotations

from datetime import date
from typing import Any

DOMAIN = "naturhome.example"
SALES_REP = f"thomas.renard@{DOMAIN}"


def _user(ref: str, first: str, last: str, **extra: Any) -> dict[str, Any]:
    username = f"{first.lower()}.{last.lower()}@{DOMAIN}"
    return {
        "attributes": {"type": "User", "ref": ref},
        "Username": username,
        "FirstName": first,
        "LastName": last,
        "Email": username,
        "Alias": (first[0] + last)[:8].lower(),
        "IsActive": True,
        **extra,
    }


def users() -> list[dict[str, Any]]:
    return [
        _user("sales_rep", "Thomas", "Renard"),
        _user(
            "marc",
            "Marc",
            "Lejeune",
            Is_Estimator__c=True,
            Estimator_Capacity__c=4,
            Estimator_Countries__c="BE;LU",
        ),
        _user(
            "sophie",
            "Sophie",
            "Weber",
            Is_Estimator__c=True,
            Estimator_Capacity__c=3,
            Estimator_Countries__c="LU;DE",
        ),
        _user(
            "julien",
            "Julien",
            "Collard",
            Is_Estimator__c=True,
            Estimator_Capacity__c=5,
            Estimator_Countries__c="BE;FR",
        ),
        _user("billing", "Anne", "Schmit"),
        _user("site_manager", "Luc", "Hoffmann"),
    ]


#: Work item code, name, and its billing-plan template:
#: (label, kind, percent, trigger, milestone key, payment terms in days).
CATALOGUE: list[tuple[str, str, list[tuple[str, str, int, str, str | None, int]]]] = [
    (
        "STRUCT",
        "Structure bois",
        [
            ("Acompte à la signature", "Deposit", 30, "Signature", None, 15),
            ("Pose de la structure", "Progress", 40, "Milestone", "structure", 30),
            ("Solde à la réception", "Balance", 30, "Handover", None, 30),
        ],
    ),
    (
        "ROOF",
        "Toiture",
        [
            ("Acompte à la signature", "Deposit", 30, "Signature", None, 15),
            ("Toiture hors d'eau", "Progress", 50, "Milestone", "roof", 30),
            ("Solde à la réception", "Balance", 20, "Handover", None, 30),
        ],
    ),
    (
        "JOIN",
        "Menuiseries extérieures",
        [
            ("Acompte à la commande", "Deposit", 40, "Signature", None, 15),
            ("Livraison des menuiseries", "Progress", 60, "Milestone", "joinery", 30),
        ],
    ),
    (
        "TECH",
        "Techniques spéciales",
        [
            ("Acompte à la signature", "Deposit", 20, "Signature", None, 15),
            ("Installations posées", "Progress", 60, "Milestone", "technical", 30),
            ("Solde à la réception", "Balance", 20, "Handover", None, 30),
        ],
    ),
    (
        "FINISH",
        "Finitions intérieures",
        [
            ("Acompte au démarrage", "Deposit", 30, "Milestone", "finishing_start", 15),
            ("Solde à la réception", "Balance", 70, "Handover", None, 30),
        ],
    ),
]


def catalogue() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for code, name, tranches in CATALOGUE:
        ref = f"item_{code.lower()}"
        records.append(
            {
                "attributes": {"type": "Work_Item__c", "ref": ref, "upsertOn": "Code__c"},
                "Code__c": code,
                "Name": name,
                "Active__c": True,
            }
        )
        for sequence, (label, kind, percent, trigger, milestone, terms) in enumerate(
            tranches, start=1
        ):
            records.append(
                {
                    "attributes": {"type": "Billing_Tranche_Template__c"},
                    "Work_Item__c": f"@{ref}",
                    "Sequence__c": sequence,
                    "Label__c": label,
                    "Kind__c": kind,
                    "Percent__c": percent,
                    "Trigger__c": trigger,
                    "Milestone_Key__c": milestone,
                    "Payment_Terms_Days__c": terms,
                }
            )
    return records


def _client(
    ref: str,
    family: str,
    first: str,
    email: str,
    street: str,
    postal: str,
    city: str,
    country: str,
    language: str,
) -> list[dict[str, Any]]:
    return [
        {
            "attributes": {"type": "Account", "ref": ref},
            "Name": f"Famille {family}",
            "Type": "Client",
            "BillingStreet": street,
            "BillingPostalCode": postal,
            "BillingCity": city,
            "BillingCountry": country,
            "Preferred_Language__c": language,
        },
        {
            "attributes": {"type": "Contact", "ref": f"{ref}_contact"},
            "AccountId": f"@{ref}",
            "FirstName": first,
            "LastName": family,
            "Email": email,
        },
    ]


def clients() -> list[dict[str, Any]]:
    return [
        *_client(
            "thill",
            "Thill",
            "Marie",
            f"marie.thill@{DOMAIN}",
            "Rue de la Gare 12",
            "9710",
            "Clervaux",
            "Luxembourg",
            "fr",
        ),
        *_client(
            "lambert",
            "Lambert",
            "Pierre",
            f"pierre.lambert@{DOMAIN}",
            "Rue du Vivier 3",
            "6690",
            "Vielsalm",
            "Belgique",
            "fr",
        ),
        *_client(
            "weis",
            "Weis",
            "Claude",
            f"claude.weis@{DOMAIN}",
            "Haaptstrooss 40",
            "9530",
            "Wiltz",
            "Luxembourg",
            "de",
        ),
        {
            "attributes": {"type": "Opportunity", "ref": "site_thill"},
            "Name": "Thill - Maison à Clervaux",
            "AccountId": "@thill",
            "OwnerId": "@sales_rep",
            "StageName": "Closed Won",
            "CloseDate": "2026-09-15",
            "Amount": 412000,
            "Project_Type__c": "New build",
            "Site_City__c": "Clervaux",
            "Site_Country__c": "LU",
            "Site_Postal_Code__c": "9710",
            "Contract_Signed_Date__c": "2026-09-15",
            "Estimator__c": "@marc",
            "Site_Progress__c": 35,
        },
        {
            "attributes": {"type": "Opportunity", "ref": "site_lambert"},
            "Name": "Lambert - Extension à Vielsalm",
            "AccountId": "@lambert",
            "OwnerId": "@sales_rep",
            "StageName": "Quote Sent",
            "CloseDate": "2027-01-31",
            "Amount": 138000,
            "Project_Type__c": "Extension",
            "Site_City__c": "Vielsalm",
            "Site_Country__c": "BE",
            "Site_Postal_Code__c": "6690",
            "Estimator__c": "@julien",
        },
        {
            "attributes": {"type": "Opportunity", "ref": "site_weis"},
            "Name": "Weis - Maison à Wiltz",
            "AccountId": "@weis",
            "OwnerId": "@sales_rep",
            "StageName": "Quote In Progress",
            "CloseDate": "2027-03-31",
            "Budget__c": 520000,
            "Project_Type__c": "New build",
            "Site_City__c": "Wiltz",
            "Site_Country__c": "LU",
            "Site_Postal_Code__c": "9530",
            "Estimator__c": "@sophie",
            "Priority__c": "P1",
            "Score__c": 78,
        },
    ]


def demo_records() -> list[dict[str, Any]]:
    """Everything, in load order (users before the records that point at them)."""
    return [*users(), *catalogue(), *clients()]


def months_ahead(today: date, months: int) -> str:
    """``YYYY-MM`` of the month ``months`` after ``today``'s (how the form asks a start)."""
    index = today.month - 1 + months
    return f"{today.year + index // 12}-{index % 12 + 1:02d}"


def quote_request(email: str, today: date, **overrides: str) -> dict[str, str]:
    """The HubSpot quote form as a careful client fills it in (a new build near Gouvy),
    by form field name; the demo plays it and the intake tests start from it."""
    values = {
        "email": email,
        "firstname": "claire",
        "lastname": "DUPONT",
        "phone": "061 21 00 00",
        "address": "Rue du Moulin 3",
        "zip": "6670",
        "city": "Gouvy",
        "country": "Belgique",
        "preferred_language": "fr",
        "site_street": "Rue du Moulin 5",
        "site_postal_code": "6670",
        "site_city": "gouvy",
        "site_country": "BE",
        "project_type": "Nouvelle construction",
        "budget": "450 000 €",
        "living_area_m2": "180",
        "desired_start": months_ahead(today, 7),
        "message": "Maison ossature bois sur un terrain de 9 ares.",
    }
    values.update(overrides)
    return values
