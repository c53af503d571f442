package main

import "flag"

type flagT = flag.Flag
