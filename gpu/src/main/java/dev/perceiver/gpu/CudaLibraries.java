package dev.perceiver.gpu;

import dev.perceiver.runtime.GpuOptions;
import dev.perceiver.runtime.GpuUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Finds libcudart and libcublas of one CUDA version in one place. The places, in order: the options' library folder,
 * then (when searching the system) {@code $CUDA_HOME/lib64}, {@code $CUDA_HOME/lib} and the same under
 * {@code $CUDA_PATH}, all by full path, then the dynamic loader's own search by soname. In each place {@code .so.13}, {@code .so.12}, {@code .so.11}, then the
 * unversioned name. Sonames matter: the unversioned {@code libcublas.so} only exists where the toolkit's development
 * files are installed. libcublas's own dependencies (libcublasLt, libcudart) are left to the loader.
 *
 * <p>Libraries are opened in the global arena and never unloaded: the CUDA runtime registers exit handlers, and
 * unloading it under them crashes the process at exit.
 */
final class CudaLibraries {
    static final List<String> VERSIONS = List.of(".so.13", ".so.12", ".so.11", ".so");

    /** An opened library; name is what it was opened as, a path or a soname. */
    record Library(String name, SymbolLookup lookup) {
        MemorySegment symbol(String symbol) {
            return lookup.find(symbol).orElseThrow(() -> new GpuUnavailableException(name + " has no symbol " + symbol));
        }
    }

    record Pair(Library cudart, Library cublas) {}

    private CudaLibraries() {}

    /** The folders searched by full path, most preferred first. */
    static List<Path> folders(GpuOptions options, UnaryOperator<String> env) {
        List<Path> dirs = new ArrayList<>();
        if (options.libraryDir() != null) dirs.add(options.libraryDir());
        if (options.searchSystem())
            for (String variable : List.of("CUDA_HOME", "CUDA_PATH")) {
                String home = env.apply(variable);
                if (home != null && !home.isBlank()) {
                    dirs.add(Path.of(home, "lib64")); // the toolkit's layout
                    dirs.add(Path.of(home, "lib")); // conda's and some distributions'
                }
            }
        return dirs;
    }

    /** Opens the first pair that loads, or throws with what was tried. env reads environment variables. */
    static Pair open(GpuOptions options, UnaryOperator<String> env) {
        Search search = new Search();
        for (Path dir : folders(options, env))
            for (String v : VERSIONS) {
                Pair p = search.inFolder(dir.resolve("libcudart" + v).toString(), dir.resolve("libcublas" + v).toString());
                if (p != null) return p;
            }
        if (options.searchSystem())
            for (String v : VERSIONS) {
                Pair p = search.load("libcudart" + v, "libcublas" + v);
                if (p != null) return p;
            }
        throw new GpuUnavailableException(search.reason());
    }

    /** What one search tried, to say in one sentence why it found nothing. */
    private static final class Search {
        private final List<String> cudartMissing = new ArrayList<>();
        private final List<String> cublasMissing = new ArrayList<>();
        private String cudartFound; // the first runtime found, to say where libcublas was missing
        private String problem; // the first library that exists but would not load, with dlerror's explanation

        /** Full paths: checks that both files exist before loading either, so no stray runtime gets loaded. */
        Pair inFolder(String cudart, String cublas) {
            if (!Files.isRegularFile(Path.of(cudart))) {
                cudartMissing.add(cudart);
                return null;
            }
            if (cudartFound == null) cudartFound = cudart;
            if (!Files.isRegularFile(Path.of(cublas))) {
                cublasMissing.add(cublas);
                return null;
            }
            return load(cudart, cublas);
        }

        Pair load(String cudart, String cublas) {
            Library runtime = open(cudart, cudartMissing);
            if (runtime == null) return null;
            if (cudartFound == null) cudartFound = cudart;
            Library blas = open(cublas, cublasMissing);
            return blas == null ? null : new Pair(runtime, blas);
        }

        private Library open(String name, List<String> missing) {
            try {
                return new Library(name, SymbolLookup.libraryLookup(name, Arena.global()));
            } catch (IllegalArgumentException e) {
                String why = Dl.error(name);
                if (why == null || why.startsWith(name + ": cannot open shared object file")) missing.add(name);
                else if (problem == null) problem = name + " cannot be loaded: " + why;
                return null;
            }
        }

        String reason() {
            if (problem != null) return problem;
            String what = cudartFound == null ? "libcudart not found" : "libcublas not found (only " + cudartFound + ")";
            List<String> tried = cudartFound == null ? cudartMissing : cublasMissing;
            return what + "; tried " + (tried.isEmpty() ? "nothing" : String.join(", ", tried))
                    + "; give the folder with the CUDA libraries in the GPU options (--cuda-lib-dir) or CUDA_HOME";
        }
    }

    /** libc's dlopen and dlerror, only to explain a failure: libraryLookup does not pass dlerror's text on. */
    private static final class Dl {
        private static final SymbolLookup LIBC = Linker.nativeLinker().defaultLookup();
        private static final int RTLD_LAZY = 1;
        private static final NativeFunction OPEN = bind("dlopen", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        private static final NativeFunction ERROR = bind("dlerror", FunctionDescriptor.of(ADDRESS));
        private static final NativeFunction CLOSE = bind("dlclose", FunctionDescriptor.of(JAVA_INT, ADDRESS));

        private static NativeFunction bind(String name, FunctionDescriptor descriptor) {
            return LIBC.find(name).map(address -> NativeFunction.of(address, name, descriptor)).orElse(null);
        }

        /** Why dlopen refuses name, or null if it does not (or libc cannot say). */
        static String error(String name) {
            if (OPEN == null || ERROR == null || CLOSE == null) return null;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment handle = (MemorySegment) OPEN.invoke(arena.allocateFrom(name), RTLD_LAZY);
                if (handle.address() != 0) {
                    CLOSE.invoke(handle);
                    return null;
                }
                MemorySegment text = (MemorySegment) ERROR.invoke();
                return text.address() == 0 ? null : text.reinterpret(Integer.MAX_VALUE).getString(0);
            }
        }
    }
}
