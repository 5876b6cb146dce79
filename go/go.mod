module switchbench/go

go 1.22
