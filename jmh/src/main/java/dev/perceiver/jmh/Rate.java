package dev.perceiver.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Work counters JMH reports as rates next to the score: {@code gflop} in GFLOP/s and {@code gelem} in billions of
 * elements per second (throughput mode; in other modes they are totals per iteration).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Rate {
    public double gflop;
    public double gelem;

    @Setup(Level.Iteration)
    public void reset() {
        gflop = 0;
        gelem = 0;
    }
}
