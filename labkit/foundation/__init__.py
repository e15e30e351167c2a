"""The foundation: infrastructure every other layer of labkit stands on.

Each job has exactly one home here, and this package imports nothing else from labkit:

* :mod:`~labkit.foundation.errors`      `LabkitError`, the base of every user error
* :mod:`~labkit.foundation.validation`  argument checks with one phrasing per kind of error
* :mod:`~labkit.foundation.io`          the one atomic writer (fsync, mode 0644) and safe loaders
* :mod:`~labkit.foundation.seeds`       named seed streams (the two seed formulas of the lab)
* :mod:`~labkit.foundation.runtime`     device, CPU threads, fast mode, the allocator setting
* :mod:`~labkit.foundation.paper`       the source paper's facts as plain numbers
* :mod:`~labkit.foundation.tables`      the one table formatter (plain text and Markdown)
* :mod:`~labkit.foundation.paths`       the one repository root

Importing this package loads no torch: the Lava sidecar (numpy only) uses `paths` and `io`.
"""
