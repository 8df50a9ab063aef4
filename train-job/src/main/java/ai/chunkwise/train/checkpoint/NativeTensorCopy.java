package ai.chunkwise.train.checkpoint;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.ShortPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Streams tensor bytes between a file and ND4J's native memory in bounded chunks, converting the element
 * type on the way (or not at all: a tensor kept in its stored type is read straight into the array). Chunking keeps the Java heap small however large the tensor (an 8B model's embedding is
 * a gigabyte), and the typed JavaCPP pointers accept 64-bit offsets where NIO buffers stop at 2 GiB.
 */
final class NativeTensorCopy {
    private static final int CHUNK_ELEMENTS = 1 << 20;

    private NativeTensorCopy() {
    }

    /**
     * Reads one tensor that starts at {@code fileOffset} into a fresh c-order array of {@code target} type.
     * BFLOAT16 and HALF targets take BF16 and F16 tensors only, bit for bit.
     */
    static INDArray read(FileChannel channel, long fileOffset, SafeTensorsHeader.Entry entry, DataType target)
            throws IOException {
        SafeTensorsDType dtype = entry.dtype();
        if ((target == DataType.BFLOAT16 || target == DataType.HALF) && !storedAs(dtype, target)) {
            throw new IllegalStateException("a " + dtype + " tensor cannot be read as " + target);
        }
        INDArray array = Nd4j.createUninitialized(target, entry.shape(), 'c');
        long count = entry.elementCount();
        if (count == 0) {
            return array;
        }
        if (storedAs(dtype, target) && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            readRaw(channel, fileOffset, Math.multiplyExact(count, (long) dtype.bytes), array);
            return array;
        }
        if (target == DataType.BFLOAT16 || target == DataType.HALF) {
            readShorts(channel, fileOffset, count, array);
            return array;
        }
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(Math.min(count, CHUNK_ELEMENTS) * dtype.bytes))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(CHUNK_ELEMENTS, count - done);
            bytes.clear().limit(n * dtype.bytes);
            SafeTensorsHeader.readFully(channel, bytes, fileOffset + done * dtype.bytes);
            bytes.flip();
            switch (target) {
                case FLOAT -> new FloatPointer(array.data().addressPointer()).position(done).put(decodeFloats(bytes, dtype, n), 0, n);
                case DOUBLE -> new DoublePointer(array.data().addressPointer()).position(done).put(decodeDoubles(bytes, dtype, n), 0, n);
                case LONG -> {
                    long[] chunk = new long[n];
                    bytes.asLongBuffer().get(chunk);
                    new LongPointer(array.data().addressPointer()).position(done).put(chunk, 0, n);
                }
                case INT -> {
                    int[] chunk = new int[n];
                    bytes.asIntBuffer().get(chunk);
                    new IntPointer(array.data().addressPointer()).position(done).put(chunk, 0, n);
                }
                default -> throw new IllegalStateException("unreachable target type " + target);
            }
            done += n;
        }
        return array;
    }

    /** Whether {@code target} holds {@code dtype}'s elements with the same bits (little-endian in the file). */
    private static boolean storedAs(SafeTensorsDType dtype, DataType target) {
        return switch (dtype) {
            case F32 -> target == DataType.FLOAT;
            case F64 -> target == DataType.DOUBLE;
            case BF16 -> target == DataType.BFLOAT16;
            case F16 -> target == DataType.HALF;
            case I64 -> target == DataType.LONG;
            case I32 -> target == DataType.INT;
        };
    }

    /**
     * The file's bytes straight into the array's native buffer, a bounded window at a time: no Java-heap copy, and
     * only the pages of this array become resident (the file goes through the page cache, which is not ours).
     */
    private static void readRaw(FileChannel channel, long fileOffset, long bytes, INDArray array) throws IOException {
        BytePointer target = new BytePointer(array.data().addressPointer());
        long windowBytes = (long) CHUNK_ELEMENTS * 8;
        for (long done = 0; done < bytes; ) {
            long n = Math.min(windowBytes, bytes - done);
            ByteBuffer window = target.position(done).limit(done + n).asByteBuffer();
            SafeTensorsHeader.readFully(channel, window, fileOffset + done);
            done += n;
        }
    }

    /** 16-bit elements where the native byte order is not the file's: decoded through Java shorts. */
    private static void readShorts(FileChannel channel, long fileOffset, long count, INDArray array) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(Math.min(count, CHUNK_ELEMENTS) * 2))
                .order(ByteOrder.LITTLE_ENDIAN);
        ShortPointer target = new ShortPointer(array.data().addressPointer());
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(CHUNK_ELEMENTS, count - done);
            bytes.clear().limit(n * 2);
            SafeTensorsHeader.readFully(channel, bytes, fileOffset + done * 2);
            bytes.flip();
            short[] chunk = new short[n];
            bytes.asShortBuffer().get(chunk);
            target.position(done).put(chunk, 0, n);
            done += n;
        }
    }

    private static float[] decodeFloats(ByteBuffer bytes, SafeTensorsDType dtype, int n) {
        float[] out = new float[n];
        switch (dtype) {
            case F32 -> bytes.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) bytes.getDouble(i * 8);
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = HalfFloats.bf16ToFloat(bytes.getShort(i * 2));
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = HalfFloats.f16ToFloat(bytes.getShort(i * 2));
                }
            }
            default -> throw new IllegalStateException("not a float type: " + dtype);
        }
        return out;
    }

    private static double[] decodeDoubles(ByteBuffer bytes, SafeTensorsDType dtype, int n) {
        double[] out = new double[n];
        if (dtype == SafeTensorsDType.F64) {
            bytes.asDoubleBuffer().get(out);
            return out;
        }
        // every other float type is exact in a float, and a float in a double: one decoder for both targets
        float[] narrow = decodeFloats(bytes, dtype, n);
        for (int i = 0; i < n; i++) {
            out[i] = narrow[i];
        }
        return out;
    }

    /**
     * Writes {@code array} (already c-order contiguous, of type FLOAT, DOUBLE, LONG or INT) as {@code dtype}.
     */
    static void write(WritableByteChannel out, INDArray array, SafeTensorsDType dtype) throws IOException {
        long count = array.length();
        if (count == 0) {
            return;
        }
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(Math.min(count, CHUNK_ELEMENTS) * dtype.bytes))
                .order(ByteOrder.LITTLE_ENDIAN);
        DataType source = array.dataType();
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(CHUNK_ELEMENTS, count - done);
            bytes.clear();
            switch (source) {
                case FLOAT -> {
                    float[] chunk = new float[n];
                    new FloatPointer(array.data().addressPointer()).position(done).get(chunk, 0, n);
                    encodeFloats(bytes, chunk, dtype);
                }
                case DOUBLE -> {
                    double[] chunk = new double[n];
                    new DoublePointer(array.data().addressPointer()).position(done).get(chunk, 0, n);
                    encodeDoubles(bytes, chunk, dtype);
                }
                case LONG -> {
                    long[] chunk = new long[n];
                    new LongPointer(array.data().addressPointer()).position(done).get(chunk, 0, n);
                    bytes.asLongBuffer().put(chunk);
                    bytes.position(n * 8);
                }
                case INT -> {
                    int[] chunk = new int[n];
                    new IntPointer(array.data().addressPointer()).position(done).get(chunk, 0, n);
                    bytes.asIntBuffer().put(chunk);
                    bytes.position(n * 4);
                }
                default -> throw new IllegalStateException("unreachable source type " + source);
            }
            bytes.flip();
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            done += n;
        }
    }

    private static void encodeFloats(ByteBuffer bytes, float[] chunk, SafeTensorsDType dtype) {
        switch (dtype) {
            case F32 -> {
                bytes.asFloatBuffer().put(chunk);
                bytes.position(chunk.length * 4);
            }
            case F64 -> {
                for (float v : chunk) {
                    bytes.putDouble(v);
                }
            }
            case BF16 -> {
                for (float v : chunk) {
                    bytes.putShort(HalfFloats.floatToBf16(v));
                }
            }
            case F16 -> {
                for (float v : chunk) {
                    bytes.putShort(HalfFloats.floatToF16(v));
                }
            }
            default -> throw new IllegalStateException("cannot store floats as " + dtype);
        }
    }

    private static void encodeDoubles(ByteBuffer bytes, double[] chunk, SafeTensorsDType dtype) {
        switch (dtype) {
            case F64 -> {
                bytes.asDoubleBuffer().put(chunk);
                bytes.position(chunk.length * 8);
            }
            case F32 -> {
                for (double v : chunk) {
                    bytes.putFloat((float) v);
                }
            }
            // via float32: the double rounding can differ from a direct double->bf16 cast only in ties
            case BF16 -> {
                for (double v : chunk) {
                    bytes.putShort(HalfFloats.floatToBf16((float) v));
                }
            }
            case F16 -> {
                for (double v : chunk) {
                    bytes.putShort(HalfFloats.floatToF16((float) v));
                }
            }
            default -> throw new IllegalStateException("cannot store doubles as " + dtype);
        }
    }
}
