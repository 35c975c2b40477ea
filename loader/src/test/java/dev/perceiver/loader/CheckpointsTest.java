package dev.perceiver.loader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CheckpointsTest {
    @TempDir
    Path dir;

    @Test
    void folderPrefersSafetensors() {
        Path folder = TestData.golden("masked_lm");
        try (Checkpoint c = Checkpoints.open(folder)) {
            assertThat(c).isInstanceOf(SafeTensorsFile.class);
            assertThat(c.path()).isEqualTo(folder.resolve("model.safetensors"));
            assertThat(c.names()).hasSize(73);
        }
    }

    @Test
    void folderFallsBackToPytorchBin() throws IOException {
        Files.copy(TestData.golden("masked_lm").resolve("pytorch_model.bin"), dir.resolve("pytorch_model.bin"));
        Files.copy(TestData.golden("masked_lm").resolve("config.json"), dir.resolve("config.json"));
        try (Checkpoint c = Checkpoints.open(dir)) {
            assertThat(c).isInstanceOf(TorchCheckpoint.class);
            assertThat(c.info("embedding_decoder.bias").shape()).containsExactly(262);
        }
    }

    @Test
    void filesAreRecognisedByContentNotName() throws IOException {
        Path bin = Files.copy(TestData.golden("image_learned").resolve("pytorch_model.bin"), dir.resolve("weights.pt"));
        Path st = Files.copy(TestData.golden("image_learned").resolve("model.safetensors"), dir.resolve("weights.bin"));
        try (Checkpoint a = Checkpoints.open(bin); Checkpoint b = Checkpoints.open(st)) {
            assertThat(a).isInstanceOf(TorchCheckpoint.class);
            assertThat(b).isInstanceOf(SafeTensorsFile.class);
            assertThat(a.names()).containsExactlyInAnyOrderElementsOf(b.names());
        }
        Path legacy = Files.write(dir.resolve("old.bin"), new byte[]{(byte) 0x80, 2, (byte) 0x8a, 10});
        assertThatThrownBy(() -> Checkpoints.open(legacy)).isExactlyInstanceOf(CheckpointException.class)
                .hasMessageContaining("legacy (pre-1.6, non-zip) torch.save format is not supported");
        Path empty = Files.write(dir.resolve("empty.safetensors"), new byte[0]);
        assertThatThrownBy(() -> Checkpoints.open(empty)).isExactlyInstanceOf(CheckpointException.class)
                .hasMessage(empty + ": file is 0 bytes, shorter than the 8-byte header length (truncated?)");
    }

    @Test
    void explainsWhatAFolderHoldsWhenItHasNoWeights() throws IOException {
        assertThatThrownBy(() -> Checkpoints.open(dir)).isExactlyInstanceOf(CheckpointException.class)
                .hasMessage(dir + ": folder has neither model.safetensors nor pytorch_model.bin (it is empty)");
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{}");
        Files.createDirectory(dir.resolve("onnx"));
        assertThatThrownBy(() -> Checkpoints.open(dir)).isExactlyInstanceOf(CheckpointException.class)
                .hasMessage(dir + ": folder has neither model.safetensors nor pytorch_model.bin (it holds config.json, "
                        + "model.safetensors.index.json, onnx/); sharded checkpoints (*.index.json) are not supported");
        Path missing = dir.resolve("nope");
        assertThatThrownBy(() -> Checkpoints.open(missing)).isExactlyInstanceOf(CheckpointException.class)
                .hasMessage(missing + ": no such file or folder");
    }

    /**
     * Every low byte of the header length, 0x80 (a pickle's first byte) among them: safetensors by name, and by
     * structure under a name that says nothing (weights.bin), read as safetensors with the value written.
     */
    @Test
    void safetensorsOfEveryHeaderLengthModulo256Open() throws IOException {
        for (int length = 256; length < 512; length++) {
            String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
            byte[] header = (json + " ".repeat(length - json.length())).getBytes(StandardCharsets.US_ASCII);
            ByteBuffer bytes = ByteBuffer.allocate(8 + length + 4).order(ByteOrder.LITTLE_ENDIAN);
            bytes.putLong(length).put(header).putFloat(length);
            Path folder = Files.createDirectories(dir.resolve("m" + length));
            Files.write(folder.resolve(Checkpoints.SAFETENSORS), bytes.array());
            Path unnamed = Files.write(folder.resolve("weights.bin"), bytes.array());
            for (Path p : new Path[] {folder, unnamed}) {
                try (Checkpoint c = Checkpoints.open(p); Arena arena = Arena.ofConfined()) {
                    assertThat(c).as("header length 0x%x, %s", length, p).isInstanceOf(SafeTensorsFile.class);
                    assertThat(c.floats("w", arena).toArray()).containsExactly((float) length);
                }
            }
        }
    }

    /** The shipped golden model whose header length, 0x2380, starts with a pickle's 0x80. */
    @Test
    void goldenSequenceClassificationOpens() throws IOException {
        Path folder = TestData.golden("sequence_classification");
        assertThat(Files.readAllBytes(folder.resolve(Checkpoints.SAFETENSORS))[0]).isEqualTo((byte) 0x80);
        try (Checkpoint c = Checkpoints.open(folder)) {
            assertThat(c).isInstanceOf(SafeTensorsFile.class);
            assertThat(c.names()).contains("perceiver.embeddings.latents");
        }
    }
}
