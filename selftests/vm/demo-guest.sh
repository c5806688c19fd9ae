#!/bin/sh
echo placeholder demo
lsmod
