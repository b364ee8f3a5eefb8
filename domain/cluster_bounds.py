"""The cluster rule's numbers (`[clusters]` of the config, and what a gate sends upward in its daily report).

Here rather than in gate.clusters so that reading a config does not load the cluster finder, and rather than in
domain.case so that it does not build the case classes a typed reading never uses (`gate screen`'s start-up,
bench/cli_startup.py).
"""

# (least, most) of each number a school may configure
CLUSTER_BOUNDS = {"same_day_pupils": {"ge": 2, "le": 50}, "window_days": {"ge": 2, "le": 14},
                  "window_pupils": {"ge": 2, "le": 100}}
