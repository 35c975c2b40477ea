package dev.perceiver.loader;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle reader for exactly what torch.save writes for a state_dict: dicts, lists, tuples, strings, numbers, the
 * tensor-rebuild functions and storage references. It never executes code or instantiates classes: globals outside a
 * fixed allowlist, and every opcode not listed in {@link Op}'s switch, end in a CheckpointException naming it.
 */
final class StateDictUnpickler {

    /** Every pickle opcode (protocols 0 to 5), for dispatch and for naming refused ones. */
    enum Op {
        MARK('('), STOP('.'), POP('0'), POP_MARK('1'), DUP('2'), FLOAT('F'), INT('I'), BININT('J'), BININT1('K'),
        LONG('L'), BININT2('M'), NONE('N'), PERSID('P'), BINPERSID('Q'), REDUCE('R'), STRING('S'), BINSTRING('T'),
        SHORT_BINSTRING('U'), UNICODE('V'), BINUNICODE('X'), APPEND('a'), BUILD('b'), GLOBAL('c'), DICT('d'),
        EMPTY_DICT('}'), APPENDS('e'), GET('g'), BINGET('h'), INST('i'), LONG_BINGET('j'), LIST('l'), EMPTY_LIST(']'),
        OBJ('o'), PUT('p'), BINPUT('q'), LONG_BINPUT('r'), SETITEM('s'), TUPLE('t'), EMPTY_TUPLE(')'), SETITEMS('u'),
        BINFLOAT('G'), PROTO(0x80), NEWOBJ(0x81), EXT1(0x82), EXT2(0x83), EXT4(0x84), TUPLE1(0x85), TUPLE2(0x86),
        TUPLE3(0x87), NEWTRUE(0x88), NEWFALSE(0x89), LONG1(0x8a), LONG4(0x8b), BINBYTES('B'), SHORT_BINBYTES('C'),
        SHORT_BINUNICODE(0x8c), BINUNICODE8(0x8d), BINBYTES8(0x8e), EMPTY_SET(0x8f), ADDITEMS(0x90), FROZENSET(0x91),
        NEWOBJ_EX(0x92), STACK_GLOBAL(0x93), MEMOIZE(0x94), FRAME(0x95), BYTEARRAY8(0x96), NEXT_BUFFER(0x97),
        READONLY_BUFFER(0x98);

        private static final Op[] BY_CODE = new Op[256];

        static {
            for (Op op : values()) BY_CODE[op.code] = op;
        }

        final int code;

        Op(int code) {
            this.code = code;
        }
    }

    /** The only globals a state_dict pickle may name; storage classes carry their element type. */
    enum Global {
        ORDERED_DICT("collections", "OrderedDict", null),
        REBUILD_TENSOR_V2("torch._utils", "_rebuild_tensor_v2", null),
        REBUILD_PARAMETER("torch._utils", "_rebuild_parameter", null),
        FLOAT_STORAGE("torch", "FloatStorage", DType.F32),
        DOUBLE_STORAGE("torch", "DoubleStorage", DType.F64),
        HALF_STORAGE("torch", "HalfStorage", DType.F16),
        BFLOAT16_STORAGE("torch", "BFloat16Storage", DType.BF16),
        LONG_STORAGE("torch", "LongStorage", DType.I64),
        INT_STORAGE("torch", "IntStorage", DType.I32),
        SHORT_STORAGE("torch", "ShortStorage", DType.I16),
        CHAR_STORAGE("torch", "CharStorage", DType.I8),
        BYTE_STORAGE("torch", "ByteStorage", DType.U8),
        BOOL_STORAGE("torch", "BoolStorage", DType.BOOL);

        final String module, name;
        final DType storageType;

        Global(String module, String name, DType storageType) {
            this.module = module;
            this.name = name;
            this.storageType = storageType;
        }

        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A typed view of one storage record: numel elements of dtype, stored under key at fileOffset. */
    record Storage(String key, DType dtype, long numel, long fileOffset) {
    }

    /** What _rebuild_tensor_v2 describes: a strided view of a storage (offset and strides in elements). */
    record TensorRef(Storage storage, long offset, long[] shape, long[] stride) {
    }

    /** A Python tuple; a distinct type so a dict key or an argument list is never mistaken for a list. */
    private record Tuple(List<Object> items) {
    }

    private final Path path;
    private final byte[] pickle;
    private final StorageResolver storages;
    private final List<Object> stack = new ArrayList<>();
    private final ArrayDeque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int pos;
    private int opStart;

    /** Turns a persistent id ('storage', storage class, key, location, numel) into a checked Storage. */
    interface StorageResolver {
        Storage resolve(DType dtype, String key, long numel);
    }

    private StateDictUnpickler(Path path, byte[] pickle, StorageResolver storages) {
        this.path = path;
        this.pickle = pickle;
        this.storages = storages;
    }

    /** The unpickled object: for a state_dict, a map from name to TensorRef (and whatever else the pickle held). */
    static Object load(Path path, byte[] pickle, StorageResolver storages) {
        return new StateDictUnpickler(path, pickle, storages).run();
    }

    private Object run() {
        while (pos < pickle.length) {
            opStart = pos;
            int code = u8();
            Op op = Op.BY_CODE[code];
            if (op == null) throw error(String.format("unknown pickle opcode 0x%02x", code));
            switch (op) {
                case PROTO -> {
                    int version = u8();
                    if (version > 5) throw error("pickle protocol " + version + " is newer than 5");
                }
                case FRAME -> {
                    long length = bytesLE(8);
                    if (length < 0 || length > pickle.length - pos)
                        throw error("FRAME of " + Long.toUnsignedString(length) + " bytes runs past the end of the pickle");
                }
                case MARK -> marks.push(stack.size());
                case STOP -> {
                    return pop();
                }
                case EMPTY_DICT -> push(new LinkedHashMap<>());
                case EMPTY_LIST -> push(new ArrayList<>());
                case EMPTY_TUPLE -> push(new Tuple(List.of()));
                case TUPLE -> push(new Tuple(popToMark()));
                case TUPLE1 -> push(tuple(1));
                case TUPLE2 -> push(tuple(2));
                case TUPLE3 -> push(tuple(3));
                case NONE -> push(null);
                case NEWTRUE -> push(Boolean.TRUE);
                case NEWFALSE -> push(Boolean.FALSE);
                case BININT -> push((long) (int) bytesLE(4));
                case BININT1 -> push((long) u8());
                case BININT2 -> push(bytesLE(2));
                case LONG1 -> push(long1());
                case BINFLOAT -> push(Double.longBitsToDouble(Long.reverseBytes(bytesLE(8))));
                case BINUNICODE -> push(utf8(bytesLE(4)));
                case SHORT_BINUNICODE -> push(utf8(u8()));
                case BINPUT -> memo.put((long) u8(), peek());
                case LONG_BINPUT -> memo.put(bytesLE(4), peek());
                case MEMOIZE -> memo.put((long) memo.size(), peek());
                case BINGET -> push(memoized(u8()));
                case LONG_BINGET -> push(memoized(bytesLE(4)));
                case GLOBAL -> push(global(line(), line()));
                case STACK_GLOBAL -> {
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n))
                        throw error("STACK_GLOBAL needs two strings, found " + kind(module) + " and " + kind(name));
                    push(global(m, n));
                }
                case BINPERSID -> push(persistent(pop()));
                case REDUCE -> {
                    Object args = pop(), callable = pop();
                    push(call(callable, args));
                }
                case BUILD -> build(pop(), peek());
                case SETITEM -> {
                    Object value = pop(), key = pop();
                    put(peek(), key, value);
                }
                case SETITEMS -> {
                    List<Object> items = popToMark();
                    if (items.size() % 2 != 0)
                        throw error("SETITEMS has an odd number (" + items.size() + ") of keys and values");
                    Object dict = peek();
                    for (int i = 0; i < items.size(); i += 2) put(dict, items.get(i), items.get(i + 1));
                }
                case APPEND -> {
                    Object value = pop();
                    list(peek()).add(value);
                }
                case APPENDS -> {
                    List<Object> items = popToMark();
                    list(peek()).addAll(items);
                }
                default -> throw error("opcode " + op + String.format(" (0x%02x)", op.code)
                        + " is not allowed in a state_dict pickle");
            }
        }
        throw error("pickle ends without STOP");
    }

    private Object global(String module, String name) {
        for (Global g : Global.values()) if (g.module.equals(module) && g.name.equals(name)) return g;
        throw error("global " + clip(module) + "." + clip(name) + " is not allowed (a state_dict may only name "
                + "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and "
                + "torch storage classes)");
    }

    private Storage persistent(Object pid) {
        if (pid instanceof Tuple(List<Object> t) && t.size() == 5 && "storage".equals(t.get(0))
                && t.get(1) instanceof Global g && g.storageType != null
                && t.get(2) instanceof String key && t.get(3) instanceof String && t.get(4) instanceof Long numel)
            return storages.resolve(g.storageType, key, numel);
        throw error("persistent id must be ('storage', storage class, key, location, numel), found " + kind(pid));
    }

    private Object call(Object callable, Object args) {
        if (!(args instanceof Tuple(List<Object> a))) throw error("REDUCE needs an argument tuple, found " + kind(args));
        if (!(callable instanceof Global g)) throw error("REDUCE cannot call " + kind(callable));
        return switch (g) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) throw error("collections.OrderedDict is only supported with no arguments");
                yield new LinkedHashMap<>();
            }
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            case REBUILD_TENSOR_V2 -> {
                if ((a.size() != 6 && a.size() != 7) || !(a.get(0) instanceof Storage storage)
                        || !(a.get(1) instanceof Long offset) || !(a.get(4) instanceof Boolean))
                    throw error("torch._utils._rebuild_tensor_v2 needs (storage, offset, size, stride, requires_grad, "
                            + "backward_hooks[, metadata])");
                yield new TensorRef(storage, offset, longs(a.get(2), "size"), longs(a.get(3), "stride"));
            }
            // (data, requires_grad, backward_hooks)
            case REBUILD_PARAMETER -> {
                if (a.size() != 3 || !(a.getFirst() instanceof TensorRef tensor) || !(a.get(1) instanceof Boolean))
                    throw error("torch._utils._rebuild_parameter needs (tensor, requires_grad, backward_hooks)");
                yield tensor;
            }
            default -> throw error("global " + g + " cannot be called");
        };
    }

    private long[] longs(Object tuple, String what) {
        if (!(tuple instanceof Tuple(List<Object> items)))
            throw error("tensor " + what + " must be a tuple of integers, found " + kind(tuple));
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(items.get(i) instanceof Long l)) throw error("tensor " + what + " must be a tuple of integers");
            out[i] = l;
        }
        return out;
    }

    /** BUILD sets attributes (a state_dict's _metadata); they do not change the dict's items, so they are dropped. */
    private void build(Object state, Object target) {
        if (!(target instanceof Map)) throw error("BUILD is only supported on a dict, found " + kind(target));
        if (state != null && !(state instanceof Map) && !(state instanceof Tuple))
            throw error("BUILD state must be a dict, found " + kind(state));
    }

    private void put(Object dict, Object key, Object value) {
        if (!(dict instanceof Map<?, ?>)) throw error("SETITEM(S) needs a dict, found " + kind(dict));
        // Only simple keys: a container key could hash itself recursively.
        if (key != null && !(key instanceof String) && !(key instanceof Long) && !(key instanceof Boolean)
                && !(key instanceof Double))
            throw error("dict key of type " + kind(key) + " is not supported");
        @SuppressWarnings("unchecked") Map<Object, Object> map = (Map<Object, Object>) dict;
        map.put(key, value);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object target) {
        if (!(target instanceof ArrayList<?>)) throw error("APPEND(S) needs a list, found " + kind(target));
        return (List<Object>) target;
    }

    private Tuple tuple(int n) {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop();
        return new Tuple(Collections.unmodifiableList(Arrays.asList(items)));
    }

    private Object memoized(long index) {
        if (!memo.containsKey(index)) throw error("memo entry " + index + " was never stored");
        return memo.get(index);
    }

    private long long1() {
        int n = u8();
        if (n > 8) throw error("LONG1 integer of " + n + " bytes does not fit 64 bits");
        if (n == 0) return 0;
        long v = bytesLE(n);
        int unused = 64 - 8 * n;
        return v << unused >> unused;
    }

    private String utf8(long length) {
        if (length < 0 || length > pickle.length - pos)
            throw error("string of " + length + " bytes runs past the end of the pickle");
        ByteBuffer bytes = ByteBuffer.wrap(pickle, pos, (int) length);
        pos += (int) length;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw error("string is not valid UTF-8");
        }
    }

    /** A GLOBAL operand: text up to the next newline. */
    private String line() {
        int start = pos;
        while (pos < pickle.length && pickle[pos] != '\n') pos++;
        if (pos >= pickle.length) throw error("GLOBAL name runs past the end of the pickle");
        return new String(pickle, start, pos++ - start, StandardCharsets.UTF_8);
    }

    private int u8() {
        need(1);
        return pickle[pos++] & 0xff;
    }

    /** n bytes as an unsigned little-endian number (n = 8 may come out negative). */
    private long bytesLE(int n) {
        need(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = v << 8 | (pickle[pos + i] & 0xff);
        pos += n;
        return v;
    }

    private void need(int n) {
        if (n > pickle.length - pos) throw error("pickle is truncated");
    }

    private void push(Object value) {
        stack.add(value);
    }

    /** The stack above the innermost MARK is all an opcode may consume, as in Python's unpickler. */
    private int floor() {
        return marks.isEmpty() ? 0 : marks.peek();
    }

    private Object pop() {
        if (stack.size() <= floor()) throw error("stack underflow");
        return stack.removeLast();
    }

    private Object peek() {
        if (stack.size() <= floor()) throw error("stack underflow");
        return stack.getLast();
    }

    private List<Object> popToMark() {
        if (marks.isEmpty()) throw error("no MARK to pop to");
        int mark = marks.pop();
        List<Object> top = stack.subList(mark, stack.size());
        List<Object> items = Collections.unmodifiableList(new ArrayList<>(top));
        top.clear();
        return items;
    }

    /** The Python type of an unpickled value, for messages. */
    static String kind(Object v) {
        return switch (v) {
            case null -> "None";
            case String _ -> "str";
            case Long _ -> "int";
            case Double _ -> "float";
            case Boolean _ -> "bool";
            case Map<?, ?> _ -> "dict";
            case List<?> _ -> "list";
            case Tuple _ -> "tuple";
            case TensorRef _ -> "tensor";
            case Storage _ -> "storage";
            case Global g -> "global " + g;
            default -> v.getClass().getSimpleName();
        };
    }

    private static String clip(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private CheckpointException error(String message) {
        Op op = opStart < pickle.length ? Op.BY_CODE[pickle[opStart] & 0xff] : null;
        return new CheckpointException(path, "data.pkl: " + message + " (at byte " + opStart
                + (op != null ? ", opcode " + op : "") + ")");
    }
}
