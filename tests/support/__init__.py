"""Helpers the tests import; no test file imports from another test file.

- paths.py: the repository, the shipped test data (tests/data) and the demo assets;
- command_line.py: the one CLI runner (`inspector ...` in a process of its own, never with the
  caller's INSPECTOR_* variables); ports.py: the one free-port helper;
- recipes.py: recipe files on disk; migrations.py: the schema heads read from the migration files;
- records_data.py: users and inspections written through the real store, as a station does;
- pcb_frames.py: DeepPCB pairs, re-captured good boards, a line camera's video of them;
- textures.py: textured surfaces with drawn defects, made in the test (magnetic-tile cannot ship);
- scripted_judge.py: an engine answering from a script; tiny_models.py: tiny real checkpoints;
- cloud_fakes.py, serving.py: local peers of the cloud SDKs and of `transformers serve`;
- peers/: camera peers (RTSP, GigE Vision) run as processes, and reading through a reconnection.
"""
