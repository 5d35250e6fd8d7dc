"""Static files storage for DEBUG off: whitenoise's compressed files with hashed names, and the
pages' ES modules' relative imports rewritten to the hashed names too, so that a page's module
and everything it imports are cached together and change together."""
from whitenoise.storage import CompressedManifestStaticFilesStorage


class ModuleStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # Django's own rewriting of `import ... from "./x.js"` (off by default).
    support_js_module_import_aggregation = True
