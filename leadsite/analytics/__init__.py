"""Funnel analytics: the form funnel counted per origin and day, the journey funnel per stage and
activity, and attribution by origin, UTM and referrer."""
