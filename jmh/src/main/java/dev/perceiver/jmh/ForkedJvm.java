package dev.perceiver.jmh;

import org.openjdk.jmh.annotations.Fork;

/**
 * The JVM every benchmark's fork runs in, in one place (JMH reads {@code @Fork} from the superclass): the Vector API,
 * native access so that the kernels align their loads, no bounds checks on vector accesses, heap for the largest
 * shape's arrays.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0", "-Xmx12g"})
public abstract class ForkedJvm {
}
