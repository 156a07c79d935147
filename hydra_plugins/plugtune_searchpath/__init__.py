"""Hydra discovers this SearchPathPlugin and adds config dirs that plugtune plugins ship."""

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class PlugtuneSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from core.errors import PlugtuneError
        from core.plugins import config_dirs

        try:
            directories = config_dirs()
        except PlugtuneError:
            return  # the run reports the plugin problem in one line when it builds the registry
        for directory in directories:
            search_path.append(provider="plugtune-plugin", path=directory)
