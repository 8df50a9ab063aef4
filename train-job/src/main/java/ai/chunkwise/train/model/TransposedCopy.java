package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * A [rows, cols] matrix copied transposed (and widened from bf16) into a [cols, rows] one, in tiles, straight over
 * the arrays' native memory. Hand-written because ND4J M2.1's transposes (assign of a transposed view, the
 * transpose and permute ops, dup) walk the strided view element by element, about 60 ns per element on this
 * machine: a 1B-width MLP weight would take a second per call, more than the matmul it feeds
 * (docs/performance.md, "Frozen projections"). Combinations other than bf16/fp32/fp64 into fp32/fp64, and views,
 * take ND4J's path.
 */
public final class TransposedCopy {
    private static final int TILE = 64;

    private TransposedCopy() {
    }

    /** target = source^T, converted to target's dtype. */
    public static void into(INDArray source, INDArray target) {
        int rows = (int) source.size(0);
        int cols = (int) source.size(1);
        if (!plain(source) || !plain(target) || target.size(0) != cols || target.size(1) != rows
                || !(supportedSource(source.dataType()) && supportedTarget(target.dataType()))) {
            target.assign(source.transpose());
            return;
        }
        ByteBuffer in = native_(source);
        ByteBuffer out = native_(target);
        if (target.dataType() == DataType.FLOAT) {
            toFloat(in, source.dataType(), rows, cols, out.asFloatBuffer());
        } else {
            toDouble(in, source.dataType(), rows, cols, out.asDoubleBuffer());
        }
    }

    /** Tile by tile: read TILE source row pieces in bulk, transpose them in a Java array, write TILE target row pieces. */
    private static void toFloat(ByteBuffer in, DataType from, int rows, int cols, FloatBuffer target) {
        FloatBuffer floats = from == DataType.FLOAT ? in.asFloatBuffer() : null;
        ShortBuffer halves = from == DataType.BFLOAT16 ? in.asShortBuffer() : null;
        float[] tile = new float[TILE * TILE];
        float[] row = new float[TILE];
        short[] raw = new short[TILE];
        for (int i0 = 0; i0 < rows; i0 += TILE) {
            int h = Math.min(TILE, rows - i0);
            for (int j0 = 0; j0 < cols; j0 += TILE) {
                int w = Math.min(TILE, cols - j0);
                for (int i = 0; i < h; i++) {
                    int at = (i0 + i) * cols + j0;
                    if (floats != null) {
                        floats.get(at, row, 0, w);
                    } else {
                        halves.get(at, raw, 0, w);
                        for (int j = 0; j < w; j++) {
                            row[j] = Float.intBitsToFloat(raw[j] << 16);   // bf16 is fp32's upper half
                        }
                    }
                    for (int j = 0; j < w; j++) {
                        tile[j * TILE + i] = row[j];
                    }
                }
                for (int j = 0; j < w; j++) {
                    target.put((j0 + j) * rows + i0, tile, j * TILE, h);
                }
            }
        }
    }

    private static void toDouble(ByteBuffer in, DataType from, int rows, int cols, DoubleBuffer target) {
        DoubleBuffer doubles = from == DataType.DOUBLE ? in.asDoubleBuffer() : null;
        FloatBuffer floats = from == DataType.FLOAT ? in.asFloatBuffer() : null;
        ShortBuffer halves = from == DataType.BFLOAT16 ? in.asShortBuffer() : null;
        double[] tile = new double[TILE * TILE];
        double[] row = new double[TILE];
        float[] single = new float[TILE];
        short[] raw = new short[TILE];
        for (int i0 = 0; i0 < rows; i0 += TILE) {
            int h = Math.min(TILE, rows - i0);
            for (int j0 = 0; j0 < cols; j0 += TILE) {
                int w = Math.min(TILE, cols - j0);
                for (int i = 0; i < h; i++) {
                    int at = (i0 + i) * cols + j0;
                    if (doubles != null) {
                        doubles.get(at, row, 0, w);
                    } else if (floats != null) {
                        floats.get(at, single, 0, w);
                        for (int j = 0; j < w; j++) {
                            row[j] = single[j];
                        }
                    } else {
                        halves.get(at, raw, 0, w);
                        for (int j = 0; j < w; j++) {
                            row[j] = Float.intBitsToFloat(raw[j] << 16);
                        }
                    }
                    for (int j = 0; j < w; j++) {
                        tile[j * TILE + i] = row[j];
                    }
                }
                for (int j = 0; j < w; j++) {
                    target.put((j0 + j) * rows + i0, tile, j * TILE, h);
                }
            }
        }
    }

    private static boolean plain(INDArray a) {
        return a.rank() == 2 && !a.isView() && a.ordering() == 'c' && a.offset() == 0
                && a.length() < Integer.MAX_VALUE;
    }

    private static boolean supportedSource(DataType t) {
        return t == DataType.FLOAT || t == DataType.BFLOAT16 || t == DataType.DOUBLE;
    }

    private static boolean supportedTarget(DataType t) {
        return t == DataType.FLOAT || t == DataType.DOUBLE;
    }

    private static ByteBuffer native_(INDArray a) {
        return a.data().asNio().order(ByteOrder.nativeOrder());
    }
}
