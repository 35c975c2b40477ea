package dev.perceiver.loader;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import dev.perceiver.loader.json.Json;
import dev.perceiver.loader.json.JsonException;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing of config.json reading: any text is a config or a CheckpointException; text the JSON
 * reader accepts is a JsonException-free value that writes back to the same value.
 */
class PerceiverConfigFuzzTest {

    @MethodSource("seeds")
    @FuzzTest
    void config(@NotNull String json) {
        try {
            PerceiverConfig c = PerceiverConfig.fromJson(json);
            if (c.numLabels() != c.id2label().size()) throw new AssertionError("num_labels disagrees with id2label");
        } catch (CheckpointException refused) {
            // A typed refusal naming the field: allowed.
        }
        Object value;
        try {
            value = Json.parse(json);
        } catch (JsonException refused) {
            return;
        }
        Object again = Json.parse(Json.write(value));
        if (!java.util.Objects.equals(again, value))
            throw new AssertionError("JSON does not round-trip: " + Json.write(value));
    }

    /** The golden models' config.json files. */
    static List<String> seeds() throws IOException {
        List<String> seeds = new ArrayList<>();
        for (String head : List.of("image_conv", "image_fourier", "image_learned", "masked_lm", "multimodal",
                "optical_flow", "sequence_classification"))
            seeds.add(Files.readString(TestData.golden(head).resolve("config.json")));
        return seeds;
    }
}
