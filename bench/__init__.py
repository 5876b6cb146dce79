"""This machine → what one goroutine switch costs against one OS-thread switch.

switchbench, the package.

The package is a pipeline, one subpackage per stage, data flowing one way
(the files a run writes on the right):

    catalogue  the cases, their expectations, CPU placement and the profiles
    native     build (compiles go/ and c/, cached) and bridge (cffi for C, a
               driver process for Go, called inside the pyperf workers)
    measure    session (the run: cases in passes, then the steps)
                 runner + worker   pyperf per case          -> raw/, suite.json
                 host, system      the machine              -> host.json, system.csv
                 memory, leaks, overhead, agree (the steps) -> memory.csv, leaks.csv, ...
                 selfbench         the suite benchmarked
    results    schema (every file and column), read (checked loading), write (atomic)
    analysis   tidy -> samples.csv; stats and summary -> summary.csv;
               comparison (the table of compare.csv)
    render     report (a list of sections, one module per family) -> report.md/.html,
               figures; compare -> compare.md/.html; fmt, cells, axes, plot, html
    cli        main and one module per command: list, build, run, counters, leaks,
               selfbench, compare, report

bench.errors holds UsageError, the one error a user can fix.
"""
