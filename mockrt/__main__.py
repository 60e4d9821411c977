from mockrt.cli import main

main()
