from naturhome_sync.cli import main

main()
