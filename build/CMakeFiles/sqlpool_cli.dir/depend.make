# Empty dependencies file for sqlpool_cli.
# This may be replaced when dependencies are built.
