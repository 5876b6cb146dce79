"""switchbench: what one goroutine switch costs against one OS-thread switch.

The package is a pipeline, one module per stage, data flowing one way:

    cases    the catalogue of benchmark cases
    build    compiles go/ and c/ (cached)
    host     probes the machine                      -> host.json
    measure  runs pyperf workers (bench.measure.worker) per case
                                                      -> suite.json
    tidy     one row per sample                      -> samples.csv
    analyse  medians and bootstrap CIs               -> summary.csv
    report   Markdown and figures                    -> report.md, *.png, *.svg

bench.native.bridge is the bridge to the native code (cffi for C, a driver
process for Go) that the pyperf workers call; bench.cli ties it together.
"""
