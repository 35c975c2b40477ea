package dev.perceiver.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Counters for the row kernels, reported as rates next to the score: {@code gelem} in billions of elements per
 * second and {@code gflop} in GFLOP/s at each kernel's nominal flops per element (throughput mode).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class ElementRate {
    public double gelem;
    public double gflop;

    @Setup(Level.Iteration)
    public void reset() {
        gelem = 0;
        gflop = 0;
    }
}
