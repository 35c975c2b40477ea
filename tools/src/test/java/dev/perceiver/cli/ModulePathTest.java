package dev.perceiver.cli;

import dev.perceiver.runtime.Backends;
import dev.perceiver.runtime.GpuOptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The tool run as modules (the tests and the launcher use the class path): the module descriptors' requires and
 * uses are what the code needs, and the GPU module is found as a service there too.
 */
class ModulePathTest {

    /** This build's modules (jars or class folders under some target/) on the test class path. */
    private static String modulePath() {
        List<String> modules = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(Path::of)
                .filter(p -> p.toString().contains(File.separator + "target" + File.separator) && isModule(p))
                .map(Path::toString)
                .toList();
        assertThat(modules).as("module path").hasSize(6); // ops, runtime, gpu, loader, model, cli
        return String.join(File.pathSeparator, modules);
    }

    private static boolean isModule(Path entry) {
        if (Files.isDirectory(entry)) return Files.exists(entry.resolve("module-info.class"));
        try (ZipFile jar = new ZipFile(entry.toFile())) {
            return jar.getEntry("module-info.class") != null;
        } catch (IOException e) {
            return false;
        }
    }

    private static Cli.Result runAsModules(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=dev.perceiver.ops,dev.perceiver.gpu", "--module-path", modulePath(),
                "-m", "dev.perceiver.cli/dev.perceiver.cli.Main"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the run ended").isTrue();
        return new Cli.Result(p.exitValue(), out, err);
    }

    @Test
    void classifiesAsOnTheClassPath() throws Exception {
        String[] args = {"classify", "--json", "--model", Cli.golden("image_learned"), Cli.input("image4_48x64.png")};
        Cli.Result modules = runAsModules(args);
        assertThat(modules.code()).as(modules.err()).isZero();
        assertThat(modules.out()).isEqualTo(Cli.run(args).out());
    }

    /** Without a GPU, the GPU module's reason (a CUDA library that is missing), not "not installed": the service was found. */
    @Test
    void findsTheGpuModule() throws Exception {
        assumeFalse(Backends.probeGpu(GpuOptions.defaults()).available(), "this machine has a usable GPU");
        Cli.Result r = runAsModules("classify", "--device", "gpu", "--model", Cli.golden("image_learned"), Cli.input("image4_48x64.png"));
        assertThat(r.code()).as(r.err()).isEqualTo(Main.NO_DEVICE);
        assertThat(r.err()).contains("--device gpu: no GPU can be used: libcu").doesNotContain("not installed");
    }
}
