"""The supplier capability register (issue #12): organisations and sites from Enhetsregisteret
(`importer`), capability profiles owned by exchange organisations with a public summary and
details shared only with buyers the supplier picks (`service`). Tables live in the exchange's
database (`models`, migration 0004) so the exchange's organisations, users and audit apply.
"""
