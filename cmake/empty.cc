// Placeholder for modules that have no sources yet.
