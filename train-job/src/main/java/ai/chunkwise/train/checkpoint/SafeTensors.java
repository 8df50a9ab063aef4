package ai.chunkwise.train.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Reads and writes the safetensors format (https://huggingface.co/docs/safetensors) to and from ND4J arrays.
 * Hand-written because no maintained Java safetensors library is published on Maven Central; the format is
 * small (length, JSON header, raw little-endian data) and fully specified.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafeTensors() {
    }

    /**
     * Reads every tensor of {@code file}, in header order. Floating-point tensors (F32, F64, BF16, F16) become
     * {@code floatType} (FLOAT or DOUBLE); I64 becomes LONG and I32 INT. The header is validated strictly and
     * every error names the file and the tensor.
     */
    public static LinkedHashMap<String, INDArray> read(Path file, DataType floatType) {
        return read(file, floatType, false, name -> true);
    }

    /**
     * Reads the tensors of {@code file} that {@code include} accepts, in header order, one at a time straight into
     * its native array (peak memory: the arrays returned plus a few MB). With {@code keepHalfPrecision}, BF16 and
     * F16 tensors stay BFLOAT16 and HALF, bit for bit as stored (half the memory of a float32 copy; frozen weights
     * need no more); F32 and F64 tensors still become {@code floatType}.
     */
    public static LinkedHashMap<String, INDArray> read(Path file, DataType floatType, boolean keepHalfPrecision,
                                                       Predicate<String> include) {
        requireFloatType(floatType, "read");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SafeTensorsHeader header = SafeTensorsHeader.read(file, channel);
            LinkedHashMap<String, INDArray> tensors = new LinkedHashMap<>();
            for (SafeTensorsHeader.Entry entry : header.entries.values()) {
                if (!include.test(entry.name())) {
                    continue;
                }
                DataType target = switch (entry.dtype()) {
                    case I64 -> DataType.LONG;
                    case I32 -> DataType.INT;
                    case BF16 -> keepHalfPrecision ? DataType.BFLOAT16 : floatType;
                    case F16 -> keepHalfPrecision ? DataType.HALF : floatType;
                    default -> floatType;
                };
                try {
                    tensors.put(entry.name(), NativeTensorCopy.read(channel, header.dataStart + entry.begin(), entry, target));
                } catch (IOException e) {
                    throw new UncheckedIOException("could not read tensor \"" + entry.name() + "\" of " + file + ": "
                            + e.getMessage(), e);
                }
            }
            return tensors;
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("safetensors file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read safetensors file " + file + ": " + e.getMessage(), e);
        }
    }

    /** The element type of every tensor of {@code file} by name ("F32", "BF16", ...), reading only the header. */
    public static LinkedHashMap<String, String> readDTypes(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            LinkedHashMap<String, String> types = new LinkedHashMap<>();
            SafeTensorsHeader.read(file, channel).entries.values().forEach(e -> types.put(e.name(), e.dtype().name()));
            return types;
        } catch (IOException e) {
            throw new UncheckedIOException("could not read safetensors file " + file + ": " + e.getMessage(), e);
        }
    }

    /** The {@code __metadata__} string map of {@code file} (empty if it has none), without reading any tensor. */
    public static Map<String, String> readMetadata(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return SafeTensorsHeader.read(file, channel).metadata;
        } catch (IOException e) {
            throw new UncheckedIOException("could not read safetensors file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code tensors} to {@code file} atomically (temporary file, then rename). Floating-point arrays are
     * stored as {@code storeAs} (FLOAT -> F32, DOUBLE -> F64, BFLOAT16 -> BF16, HALF -> F16; rounded to
     * nearest even); LONG
     * arrays as I64 and INT arrays as I32. {@code metadata} may be null; "format": "pt" is always recorded, as
     * transformers refuses files without it.
     */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata, DataType storeAs) {
        SafeTensorsDType floatDType = floatDType(file, storeAs);
        List<Prepared> prepared = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            prepared.add(prepare(file, e.getKey(), e.getValue(), floatDType));
        }
        // Widest elements first, as the reference writer does, so every tensor starts at a multiple of its width.
        prepared.sort(Comparator.comparingInt((Prepared p) -> -p.dtype.bytes));

        List<Layout> layout = new ArrayList<>();
        for (Prepared p : prepared) {
            layout.add(new Layout(p.name, p.dtype, p.array.shape()));
        }
        ByteBuffer head = headerBytes(layout, metadata);
        AtomicFiles.write(file, channel -> {
            while (head.hasRemaining()) {
                channel.write(head);
            }
            for (Prepared p : prepared) {
                NativeTensorCopy.write(channel, p.array, p.dtype);
            }
        });
    }

    /**
     * Writes a file of floating-point tensors made one at a time: {@code shapes} gives the names (in file order)
     * and shapes, {@code tensorOf} makes each tensor when its turn comes, and it can be dropped once written, so a
     * file larger than memory (a random-weight 8B checkpoint) needs only its largest tensor in memory. Stored as
     * {@code storeAs} (FLOAT, DOUBLE, BFLOAT16 or HALF), atomically.
     */
    public static void write(Path file, LinkedHashMap<String, long[]> shapes, Map<String, String> metadata,
                             DataType storeAs, Function<String, INDArray> tensorOf) {
        SafeTensorsDType floatDType = floatDType(file, storeAs);
        List<Layout> layout = new ArrayList<>();
        shapes.forEach((name, shape) -> layout.add(new Layout(name, floatDType, shape.clone())));
        ByteBuffer head = headerBytes(layout, metadata);
        AtomicFiles.write(file, channel -> {
            while (head.hasRemaining()) {
                channel.write(head);
            }
            for (Layout l : layout) {
                Prepared p = prepare(file, l.name, tensorOf.apply(l.name), floatDType);
                if (!p.array.dataType().isFPType() || !java.util.Arrays.equals(p.array.shape(), l.shape)) {
                    throw new IllegalArgumentException("cannot write safetensors file " + file + ": tensor \""
                            + l.name + "\" was made as " + p.array.dataType() + " " + java.util.Arrays.toString(p.array.shape())
                            + ", the layout says a floating-point " + java.util.Arrays.toString(l.shape));
                }
                NativeTensorCopy.write(channel, p.array, p.dtype);
            }
        });
    }

    /** One tensor's place in a file being written. */
    private record Layout(String name, SafeTensorsDType dtype, long[] shape) {
        long bytes() {
            long n = dtype.bytes;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    /** The 8-byte length and the JSON header, tensors back to back in {@code layout}'s order. */
    private static ByteBuffer headerBytes(List<Layout> layout, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject(SafeTensorsHeader.METADATA_KEY);
        if (metadata != null) {
            metadata.forEach(meta::put);
        }
        if (!meta.has("format")) {
            meta.put("format", "pt");
        }
        long offset = 0;
        for (Layout l : layout) {
            long bytes = l.bytes();
            ObjectNode entry = header.putObject(l.name);
            entry.put("dtype", l.dtype.name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : l.shape) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;   // spaces up to a multiple of 8, like the reference implementation
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        return head;
    }

    private record Prepared(String name, INDArray array, SafeTensorsDType dtype) {
    }

    private static Prepared prepare(Path file, String name, INDArray array, SafeTensorsDType floatDType) {
        if (name == null || name.isEmpty() || name.equals(SafeTensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("cannot write safetensors file " + file + ": invalid tensor name \"" + name + "\"");
        }
        if (array == null) {
            throw new IllegalArgumentException("cannot write safetensors file " + file + ": tensor \"" + name + "\" is null");
        }
        INDArray a = array;
        SafeTensorsDType dtype;
        switch (a.dataType()) {
            case FLOAT, DOUBLE -> dtype = floatDType;
            case HALF, BFLOAT16 -> {
                a = a.castTo(DataType.FLOAT);
                dtype = floatDType;
            }
            case LONG -> dtype = SafeTensorsDType.I64;
            case INT -> dtype = SafeTensorsDType.I32;
            default -> throw new IllegalArgumentException("cannot write safetensors file " + file + ": tensor \"" + name
                    + "\" has data type " + a.dataType() + "; supported: FLOAT, DOUBLE, HALF, BFLOAT16, LONG, INT");
        }
        if (a.isView() || a.ordering() != 'c') {
            a = a.dup('c');
        }
        return new Prepared(name, a, dtype);
    }

    private static SafeTensorsDType floatDType(Path file, DataType storeAs) {
        return switch (storeAs) {
            case FLOAT -> SafeTensorsDType.F32;
            case DOUBLE -> SafeTensorsDType.F64;
            case BFLOAT16 -> SafeTensorsDType.BF16;
            case HALF -> SafeTensorsDType.F16;
            default -> throw new IllegalArgumentException("cannot store safetensors file " + file + " as " + storeAs
                    + ": use FLOAT, DOUBLE, BFLOAT16 or HALF");
        };
    }

    private static void requireFloatType(DataType floatType, String action) {
        if (floatType != DataType.FLOAT && floatType != DataType.DOUBLE) {
            throw new IllegalArgumentException("safetensors " + action + ": float type must be FLOAT or DOUBLE, got " + floatType);
        }
    }
}
