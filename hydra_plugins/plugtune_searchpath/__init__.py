"""Hydra discovers this SearchPathPlugin and adds config dirs that plugtune plugins ship."""

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class PlugtuneSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from core.plugins import config_dirs

        for directory in config_dirs():
            search_path.append(provider="plugtune-plugin", path=directory)
