"""Build tilekernels._C (and the catalogue's fatbins) with CMake + ninja: cmake_example's CMakeBuild, nothing more.

CMake owns catalogue -> fatbins -> _C (CMakeLists.txt); this runs configure, build and install into the wheel's
build directory. Environment: TILEC_ARCHS (arch matrix), CMAKE_ARGS (extra -D flags), CMAKE_BUILD_PARALLEL_LEVEL.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class CMakeExtension(Extension):
    def __init__(self, name: str, sourcedir: str = "") -> None:
        super().__init__(name, sources=[])
        self.sourcedir = os.fspath(Path(sourcedir).resolve())


class CMakeBuild(build_ext):
    def build_extension(self, ext: CMakeExtension) -> None:
        # The package directory the extension goes to (build/lib.../tilekernels, or bindings/tilekernels in place);
        # CMake installs _C, fatbins/ and manifest.json under <prefix>/tilekernels.
        ext_fullpath = Path.cwd() / self.get_ext_fullpath(ext.name)
        prefix = ext_fullpath.parent.parent.resolve()
        debug = int(os.environ.get("DEBUG", "0")) if self.debug is None else self.debug
        cfg = "Debug" if debug else "Release"

        cmake_args = [f"-DPython_EXECUTABLE={sys.executable}", f"-DCMAKE_BUILD_TYPE={cfg}",
                      f"-DTILEKERNELS_VERSION={self.distribution.get_version()}"]
        if os.environ.get("TILEC_ARCHS"):
            cmake_args += [f"-DTILEC_ARCHS={os.environ['TILEC_ARCHS']}"]
        if "CMAKE_ARGS" in os.environ:
            cmake_args += [item for item in os.environ["CMAKE_ARGS"].split(" ") if item]
        if not os.environ.get("CMAKE_GENERATOR"):
            try:
                import ninja

                ninja_executable_path = Path(ninja.BIN_DIR) / "ninja"
                cmake_args += ["-GNinja", f"-DCMAKE_MAKE_PROGRAM:FILEPATH={ninja_executable_path}"]
            except ImportError:
                cmake_args += ["-GNinja"]

        build_args = []
        if "CMAKE_BUILD_PARALLEL_LEVEL" not in os.environ and hasattr(self, "parallel") and self.parallel:
            build_args += [f"-j{self.parallel}"]

        build_temp = Path(self.build_temp) / ext.name
        build_temp.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cmake", ext.sourcedir, *cmake_args], cwd=build_temp, check=True)
        subprocess.run(["cmake", "--build", ".", *build_args], cwd=build_temp, check=True)
        # The staged package keeps files from earlier builds: drop its fatbins first, so that a variant which left the
        # catalogue does not ride along in the wheel (install copies only the current ones).
        shutil.rmtree(prefix / "tilekernels" / "fatbins", ignore_errors=True)
        subprocess.run(["cmake", "--install", ".", "--prefix", str(prefix), "--component", "tilekernels"],
                       cwd=build_temp, check=True)


setup(ext_modules=[CMakeExtension("tilekernels._C")], cmdclass={"build_ext": CMakeBuild})
