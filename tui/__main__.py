from switchroom.tui.cli import main

main()
