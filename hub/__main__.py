from switchroom.hub.cli import main

main()
