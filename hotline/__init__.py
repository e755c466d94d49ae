"""The 12345 hotline's call-handling engine: the one installed name of this project.

Layers, top to bottom (checked by .importlinter): app (the composition root: CLI, API app,
supervisor), config (the root settings), agi, acd, speech, crm_bridge, recordings,
workorders, calls, auth, asterisk, kernel. A package imports only from the layers below it.
"""
