"""Reports for coordinators: the daily digest and participant exports."""
