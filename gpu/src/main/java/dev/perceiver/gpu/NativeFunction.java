package dev.perceiver.gpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.util.function.IntFunction;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One C function bound with the FFM linker: the single downcall path for every CUDA, cuBLAS and libc call here.
 * Arguments are passed boxed (int, long, MemorySegment); the cost is noise next to a GEMM or a copy. No call uses
 * {@code Linker.Option.critical}: the copies and GEMMs block, and the short calls are not on a hot path.
 */
final class NativeFunction {
    private static final Linker LINKER = Linker.nativeLinker();

    private final String name;
    private final MethodHandle spread; // (Object[]) -> Object
    private final IntFunction<String> statusText; // null unless the function returns a status code

    private NativeFunction(String name, MethodHandle handle, IntFunction<String> statusText) {
        this.name = name;
        int arity = handle.type().parameterCount();
        this.spread = handle.asSpreader(Object[].class, arity).asType(MethodType.methodType(Object.class, Object[].class));
        this.statusText = statusText;
    }

    /** A function returning a status code where zero means success; statusText names the others. */
    static NativeFunction status(MemorySegment address, String name, IntFunction<String> statusText, MemoryLayout... args) {
        return new NativeFunction(name, LINKER.downcallHandle(address, FunctionDescriptor.of(JAVA_INT, args)), statusText);
    }

    /** Any other function. */
    static NativeFunction of(MemorySegment address, String name, FunctionDescriptor descriptor) {
        return new NativeFunction(name, LINKER.downcallHandle(address, descriptor), null);
    }

    String name() {
        return name;
    }

    Object invoke(Object... args) {
        try {
            return spread.invokeExact(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) { // a downcall declares Throwable but cannot throw a checked exception
            throw new IllegalStateException(name + " threw " + t, t);
        }
    }

    /** Calls a status function and returns its status. */
    int status(Object... args) {
        return (int) invoke(args);
    }

    /** Calls a status function; a nonzero status becomes a GpuException naming this function. */
    void call(Object... args) {
        int status = status(args);
        if (status != 0) throw new GpuException(name, status, statusText.apply(status));
    }
}
