"""The arithmetic every bench report shares: medians, ranges and ratios of one comparison.

A ratio is always "how many times better the project is": project / anchor when higher is
better, anchor / project when lower is. Rounds alternate the tools, so round i of the project
and round i of the anchor ran side by side: the ratio's range is that of the per-round ratios.
"""
import statistics


def median(values):
    return statistics.median(values) if values else None


def ratio(project, anchor, higher_is_better):
    if not project or not anchor:
        return None
    return project / anchor if higher_is_better else anchor / project


def summary(row):
    """Median and range of each side and of the per-round ratios; None where a side is empty."""
    project, anchor, better = row["project"], row["anchor"], row["higher_is_better"]
    rounds = [ratio(p, a, better) for p, a in zip(project, anchor)]
    rounds = [r for r in rounds if r is not None]
    return {
        "project_median": median(project),
        "project_min": min(project) if project else None,
        "project_max": max(project) if project else None,
        "anchor_median": median(anchor),
        "anchor_min": min(anchor) if anchor else None,
        "anchor_max": max(anchor) if anchor else None,
        "ratio_median": median(rounds),
        "ratio_min": min(rounds) if rounds else None,
        "ratio_max": max(rounds) if rounds else None,
        "rounds": min(len(project), len(anchor)),
        "meets_goal": None
        if row.get("goal_ratio") is None or not rounds
        else median(rounds) >= row["goal_ratio"],
    }


def number(value):
    """A figure as people read it: three significant digits, thousands separated."""
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def spread(median_value, low, high):
    if median_value is None:
        return "n/a"
    return f"{number(median_value)} ({number(low)}-{number(high)})"


def describe(row):
    s = summary(row)
    goal = "" if row.get("goal_ratio") is None else f", goal >= {row['goal_ratio']:g}x" + (
        "" if s["meets_goal"] is None else (" met" if s["meets_goal"] else " NOT met"))
    ratio_text = "n/a" if s["ratio_median"] is None else (
        f"{s['ratio_median']:.2f}x ({s['ratio_min']:.2f}-{s['ratio_max']:.2f})")
    sense = "higher is better" if row["higher_is_better"] else "lower is better"
    return (f"{row['comparison']} | {row['figure']}: project {spread(s['project_median'], s['project_min'], s['project_max'])}"
            f" vs {row['anchor_name']} {spread(s['anchor_median'], s['anchor_min'], s['anchor_max'])} {row['unit']}"
            f" ({sense}, {s['rounds']} rounds) -> {ratio_text}{goal}")
