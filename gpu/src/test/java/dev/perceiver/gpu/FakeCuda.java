package dev.perceiver.gpu;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The fake libcudart.so.12 and libcublas.so.12: CPU stand-ins built with gcc from src/test/resources/fakecuda into
 * target/, once per JVM. They let CI run the whole FFM binding path without a GPU. A test that needs them is
 * skipped (not failed) when gcc is missing; a compile error fails it.
 *
 * <p>The libraries get sonames of their own (libfakecudart/libfakecublas), so once loaded into this JVM they can
 * never satisfy a later dlopen of the real sonames.
 */
final class FakeCuda {
    private static final Map<String, SymbolLookup> LOOKUPS = new ConcurrentHashMap<>();
    private static Path target;
    private static String unavailable;

    private FakeCuda() {}

    /** target/fake-cuda: the pair as detection expects it. */
    static Path dir() {
        return build().resolve("fake-cuda");
    }

    /** A pair whose libcublas lacks cublasSgemmStridedBatched. */
    static Path dirWithoutStridedBatched() {
        return build().resolve("fake-cuda-no-batched");
    }

    /** A pair whose libcublas needs libfakedep.so, which exists nowhere (like a libcublasLt missing from the path). */
    static Path dirWithMissingDependency() {
        return build().resolve("fake-cuda-missing-dependency");
    }

    private static synchronized Path build() {
        if (target == null && unavailable == null) {
            try {
                target = Path.of(FakeCuda.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
                Path sources = Path.of(FakeCuda.class.getResource("/fakecuda/fake_cudart.c").toURI()).getParent();
                Path cudart = sources.resolve("fake_cudart.c"), cublas = sources.resolve("fake_cublas.c");

                Path main = target.resolve("fake-cuda");
                compile(cudart, main.resolve("libcudart.so.12"), "libfakecudart.so.12");
                compile(cublas, main.resolve("libcublas.so.12"), "libfakecublas.so.12");

                Path noBatched = target.resolve("fake-cuda-no-batched");
                compile(cudart, noBatched.resolve("libcudart.so.12"), "libfakecudart.so.12");
                compile(cublas, noBatched.resolve("libcublas.so.12"), "libfakecublas.so.12", "-DOMIT_STRIDED_BATCHED");

                Path missing = target.resolve("fake-cuda-missing-dependency");
                Path dependency = target.resolve("fake-cuda-dependency");
                Path stub = Files.writeString(target.resolve("fakedep.c"), "int fake_dependency;\n");
                compile(stub, dependency.resolve("libfakedep.so"), "libfakedep.so");
                compile(cudart, missing.resolve("libcudart.so.12"), "libfakecudart.so.12");
                compile(cublas, missing.resolve("libcublas.so.12"), "libfakecublas.so.12",
                        "-L" + dependency, "-Wl,--no-as-needed", "-lfakedep");
                Files.delete(dependency.resolve("libfakedep.so"));
            } catch (GccMissing e) {
                unavailable = e.getMessage();
            } catch (IOException | URISyntaxException e) {
                throw new IllegalStateException("cannot build the fake CUDA libraries", e);
            }
        }
        Assumptions.assumeTrue(unavailable == null, () -> "skipped: the fake CUDA libraries need gcc: " + unavailable);
        return target;
    }

    private static void compile(Path source, Path output, String soname, String... extra) throws IOException {
        Files.createDirectories(output.getParent());
        List<String> command = new ArrayList<>(List.of("gcc", "-shared", "-fPIC", "-O1", "-std=c11", "-Wall", "-Wextra",
                "-Werror", "-Wl,-soname," + soname, "-o", output.toString(), source.toString()));
        command.addAll(List.of(extra)); // libraries after the source, as the linker resolves left to right
        Process gcc;
        try {
            gcc = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new GccMissing("cannot run gcc (" + e.getMessage() + ")");
        }
        try {
            if (!gcc.waitFor(120, TimeUnit.SECONDS)) {
                gcc.destroyForcibly();
                throw new IllegalStateException("gcc took over 120 s: " + command);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while compiling " + source, e);
        }
        String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (gcc.exitValue() != 0) throw new IllegalStateException(String.join(" ", command) + " failed:\n" + log);
    }

    private static final class GccMissing extends RuntimeException {
        GccMissing(String message) {
            super(message);
        }
    }

    // ---- the fake_* globals, read and written through FFM (the same library instance detection loaded) ----

    static int cudart(String variable) {
        return global("libcudart.so.12", variable).get(JAVA_INT, 0);
    }

    static void setCudart(String variable, int value) {
        global("libcudart.so.12", variable).set(JAVA_INT, 0, value);
    }

    static int cublas(String variable) {
        return global("libcublas.so.12", variable).get(JAVA_INT, 0);
    }

    static void setCublas(String variable, int value) {
        global("libcublas.so.12", variable).set(JAVA_INT, 0, value);
    }

    /** Puts every injected failure back to "none". */
    static void reset() {
        setCudart("fake_device_count", 1);
        setCudart("fake_malloc_status", 0);
        setCublas("fake_create_status", 0);
        setCublas("fake_gemm_status", 0);
        setCublas("fake_gemm_corrupt", 0);
    }

    private static MemorySegment global(String library, String variable) {
        SymbolLookup lookup = LOOKUPS.computeIfAbsent(library, name -> SymbolLookup.libraryLookup(dir().resolve(name), Arena.global()));
        return lookup.find(variable).orElseThrow(() -> new IllegalStateException(library + " lacks " + variable))
                .reinterpret(Integer.BYTES);
    }
}
