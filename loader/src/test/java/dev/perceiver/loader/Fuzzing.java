package dev.perceiver.loader;

import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;

/** What the checkpoint fuzz tests share: the full read every file they open must survive. */
final class Fuzzing {
    private Fuzzing() {
    }

    /**
     * Reads every tensor of an opened checkpoint and checks it against its info. A tensor may still be refused
     * with a CheckpointException (a dimension too large for a Tensor), never with anything else.
     */
    static void readEveryTensor(Checkpoint c) {
        for (String name : c.names()) {
            TensorInfo info = c.info(name);
            if (info.byteLength() != info.elements() * info.dtype().bytes())
                throw new AssertionError(info + " claims " + info.byteLength() + " bytes");
            try (Arena arena = Arena.ofConfined()) {
                if (info.dtype().isFloatingPoint()) {
                    Tensor t = c.floats(name, arena);
                    if (!Arrays.equals(Arrays.stream(t.shape()).asLongStream().toArray(), info.shape()))
                        throw new AssertionError(name + " read as " + t + ", stored as " + info);
                    t.toArray();
                } else if (c.integers(name).length != info.elements()) {
                    throw new AssertionError(name + " read with the wrong number of elements, stored as " + info);
                }
            } catch (CheckpointException refused) {
                // Typed refusal of one tensor: allowed.
            }
        }
    }
}
