package dev.perceiver.examples;

import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.ImageProcessor;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's library example, run as a user runs it, and the README showing exactly this code and setup. */
class ClassifyImageTest {
    private static final Path TESTDATA = Path.of(System.getProperty("perceiver.testdata"));
    private static final Path README = Path.of(System.getProperty("perceiver.readme"));

    /** The learned-position model (12x12 images) on a 48x64 image: the top five of the low-level model's softmax. */
    @Test
    void printsTheFiveMostLikelyClasses() throws Exception {
        Path model = TESTDATA.resolve("golden/image_learned"), image = TESTDATA.resolve("golden/inputs/image4_48x64.png");
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            ClassifyImage.main(new String[] {model.toString(), image.toString()});
        } finally {
            System.setOut(stdout);
        }
        assertThat(printed.toString(StandardCharsets.UTF_8).lines().toList()).isEqualTo(expected(model, image));
    }

    private static List<String> expected(Path model, Path image) throws Exception {
        try (Perceiver m = Perceiver.load(model, new Perceiver.Options(1, "cpu")); Arena arena = Arena.ofConfined()) {
            Tensor pixels = ImageProcessor.perceiverDefaults(12).preprocess(ImageFiles.read(image), arena)
                    .reshape(1, 3, 12, 12);
            float[] logits = m.forward(PerceiverInputs.of(pixels)).logitsTensor().toArray();
            double max = IntStream.range(0, logits.length).mapToDouble(i -> logits[i]).max().orElseThrow();
            double sum = IntStream.range(0, logits.length).mapToDouble(i -> Math.exp(logits[i] - max)).sum();
            List<String> lines = new ArrayList<>();
            IntStream.range(0, logits.length).boxed().sorted(Comparator.comparingDouble(i -> -logits[i])).limit(5)
                    .forEach(i -> lines.add(String.format("%.4f  %s", Math.exp(logits[i] - max) / sum, "LABEL_" + i)));
            return lines;
        }
    }

    @Test
    void readmeShowsThisExampleItsDependencyAndItsJvmFlags() throws Exception {
        String readme = Files.readString(README);
        Path project = README.getParent().resolve("examples");
        String source = Files.readString(project.resolve("src/main/java/dev/perceiver/examples/ClassifyImage.java"));
        assertThat(readme).contains(indented(source));
        String pom = Files.readString(project.resolve("pom.xml"));
        String dependency = pom.substring(pom.indexOf("    <dependency>"), pom.indexOf("</dependency>") + 13);
        assertThat(readme).contains(indented(dependency.stripIndent()));
        assertThat(readme).contains("--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED");
    }

    /** As a README code block: each non-empty line indented by four spaces. */
    private static String indented(String text) {
        return text.lines().map(l -> l.isEmpty() ? "" : "    " + l).collect(Collectors.joining("\n"));
    }
}
