"""Apply stage: the ordered action chain that turns an Intent into registrations and replies."""
