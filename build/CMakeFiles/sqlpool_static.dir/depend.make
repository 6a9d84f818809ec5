# Empty dependencies file for sqlpool_static.
# This may be replaced when dependencies are built.
