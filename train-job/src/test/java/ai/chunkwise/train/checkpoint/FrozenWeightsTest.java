package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.loop.RandomInit;
import ai.chunkwise.train.model.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Frozen weights kept in the checkpoint's 16-bit type: ND4J's CPU backend holds BFLOAT16 / HALF arrays, they are
 * the file's bits, and ND4J widens them to float32 and float64 exactly (against the formats' definitions).
 */
class FrozenWeightsTest {
    private static final LlamaConfig CONFIG = new LlamaConfig(32, 16, 32, 2, 2, 1, 8, 1e-5, 10000.0, null, false, 64, 1, 2);

    @TempDir
    Path dir;

    /** Every one of the 65,536 bit patterns, as a 1-D tensor of {@code dtype} ("BF16" or "F16"). */
    private Path allPatterns(String dtype) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(2 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int bits = 0; bits < 1 << 16; bits++) {
            data.putShort((short) bits);
        }
        String header = "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":[65536],\"data_offsets\":[0," + (2 << 16) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        out.write(data.array());
        Path file = dir.resolve(dtype + ".safetensors");
        Files.write(file, out.toByteArray());
        return file;
    }

    @Test
    void bfloat16ArraysWidenExactlyToFloatAndDouble() throws IOException {
        INDArray t = SafeTensors.read(allPatterns("BF16"), DataType.FLOAT, true, n -> true).get("t");
        assertEquals(DataType.BFLOAT16, t.dataType());
        float[] f = t.castTo(DataType.FLOAT).toFloatVector();
        double[] d = t.castTo(DataType.DOUBLE).toDoubleVector();
        for (int bits = 0; bits < 1 << 16; bits++) {
            // bfloat16 is by definition the upper 16 bits of a float32
            float expected = Float.intBitsToFloat(bits << 16);
            if (Float.isNaN(expected)) {
                assertTrue(Float.isNaN(f[bits]) && Double.isNaN(d[bits]), "NaN pattern " + Integer.toHexString(bits));
            } else {
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(f[bits]),
                        "bf16 " + Integer.toHexString(bits) + " -> float32");
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(d[bits]),
                        "bf16 " + Integer.toHexString(bits) + " -> float64");
            }
        }
    }

    @Test
    void halfArraysWidenExactlyToFloatAndDouble() throws IOException {
        INDArray t = SafeTensors.read(allPatterns("F16"), DataType.DOUBLE, true, n -> true).get("t");
        assertEquals(DataType.HALF, t.dataType());
        float[] f = t.castTo(DataType.FLOAT).toFloatVector();
        double[] d = t.castTo(DataType.DOUBLE).toDoubleVector();
        for (int bits = 0; bits < 1 << 16; bits++) {
            double expected = binary16(bits);
            String what = "f16 " + Integer.toHexString(bits);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(f[bits]) && Double.isNaN(d[bits]), what);
            } else {
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(d[bits]), what + " -> float64");
                assertEquals(Float.floatToRawIntBits((float) expected), Float.floatToRawIntBits(f[bits]), what + " -> float32");
            }
        }
    }

    /** IEEE 754 binary16 from its definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals m 2^-24. */
    private static double binary16(int bits) {
        int sign = bits >>> 15;
        int e = (bits >>> 10) & 0x1F;
        int m = bits & 0x3FF;
        double magnitude = e == 0x1F ? (m == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                : e == 0 ? m * Math.pow(2, -24) : Math.pow(2, e - 15) * (1 + m / 1024.0);
        return sign == 1 ? -magnitude : magnitude;
    }

    @Test
    void loraLoadKeepsABfloat16CheckpointAsStored() throws IOException {
        Map<String, INDArray> w = RandomInit.weights(CONFIG, 3, 0.7, DataType.FLOAT);
        Path model = dir.resolve("bf16");
        HfCheckpoint.save(model, CONFIG, w, DataType.FLOAT, new ModelExport("bfloat16", 1L << 30, null, null));
        Path file = model.resolve(HfCheckpoint.WEIGHTS_FILE);

        HfCheckpoint frozen = HfCheckpoint.load(model, DataType.FLOAT, FrozenWeights.forRun(true));
        HfCheckpoint widened = HfCheckpoint.load(model, DataType.DOUBLE, FrozenWeights.forRun(false));
        assertEquals(w.keySet(), frozen.weights().keySet());
        for (Map.Entry<String, INDArray> e : frozen.weights().entrySet()) {
            INDArray kept = e.getValue();
            assertEquals(DataType.BFLOAT16, kept.dataType(), e.getKey());
            assertArrayEquals(w.get(e.getKey()).shape(), kept.shape(), e.getKey());
            // the file's bits, not a rounding of a float32 copy
            short[] stored = HfModelWriterTest.rawShorts(file, e.getKey());
            float[] asFloat = kept.castTo(DataType.FLOAT).data().asFloat();
            for (int i = 0; i < stored.length; i++) {
                assertEquals((stored[i] & 0xFFFF) << 16, Float.floatToRawIntBits(asFloat[i]), e.getKey() + "[" + i + "]");
            }
            // ND4J's widening and the loader's own (HalfFloats) agree bit for bit
            INDArray viaLoader = widened.weights().get(e.getKey());
            assertEquals(DataType.DOUBLE, viaLoader.dataType());
            assertEquals(viaLoader, kept.castTo(DataType.DOUBLE), e.getKey());
        }
    }

    @Test
    void tensorsLargerThanOneReadWindowArriveWhole() {
        // 5M elements: 10 MB as BF16 and 20 MB as F32, more than one 8 MB window of the direct read
        INDArray big = Nd4j.linspace(DataType.FLOAT, -3, 1e-6, 5_000_000).reshape(2500, 2000);
        Path bf16 = dir.resolve("big-bf16.safetensors");
        Path f32 = dir.resolve("big-f32.safetensors");
        SafeTensors.write(bf16, Map.of("w", big), null, DataType.BFLOAT16);
        SafeTensors.write(f32, Map.of("w", big), null, DataType.FLOAT);
        assertEquals(big, SafeTensors.read(f32, DataType.FLOAT).get("w"));
        INDArray kept = SafeTensors.read(bf16, DataType.FLOAT, true, n -> true).get("w");
        assertEquals(DataType.BFLOAT16, kept.dataType());
        assertEquals(SafeTensors.read(bf16, DataType.FLOAT).get("w"), kept.castTo(DataType.FLOAT));
        // the stored values are the float32 ones rounded: within half a bf16 ulp (8 significant bits: 2^-8)
        INDArray diff = kept.castTo(DataType.DOUBLE).sub(big.castTo(DataType.DOUBLE));
        assertTrue(Transforms.abs(diff).sub(Transforms.abs(big.castTo(DataType.DOUBLE)).mul(0x1.0p-8))
                .maxNumber().doubleValue() <= 0);
    }

    @Test
    void float32CheckpointStaysInTheComputeType() {
        Map<String, INDArray> w = RandomInit.weights(CONFIG, 4, 0.7, DataType.FLOAT);
        Path model = dir.resolve("f32");
        HfCheckpoint.save(model, CONFIG, w);
        HfCheckpoint frozen = HfCheckpoint.load(model, DataType.DOUBLE, FrozenWeights.AS_STORED);
        for (Map.Entry<String, INDArray> e : frozen.weights().entrySet()) {
            assertEquals(DataType.DOUBLE, e.getValue().dataType(), e.getKey());
            assertEquals(w.get(e.getKey()).castTo(DataType.DOUBLE), e.getValue(), e.getKey());
        }
    }
}
