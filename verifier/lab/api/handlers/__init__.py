"""Request handlers of the emulator, one module per resource, as mixins of ApiEmulator."""
