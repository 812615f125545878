"""Reference data: countries and country groups (`countries`), materials and the official
critical-raw-material lists (`materials`). Versioned data files live in `reference/data/`."""
