# Empty dependencies file for sqlpool.
# This may be replaced when dependencies are built.
