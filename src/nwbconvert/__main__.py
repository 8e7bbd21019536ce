from nwbconvert.cli import main

main()
