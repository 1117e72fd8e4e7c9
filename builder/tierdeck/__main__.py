"""`python -m tierdeck` runs the tierdeck command line."""

from tierdeck.cli import main

if __name__ == "__main__":
    main()
