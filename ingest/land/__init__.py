"""Stage `land` (and the sensor before it): exports pulled from the exports root into landing/."""
