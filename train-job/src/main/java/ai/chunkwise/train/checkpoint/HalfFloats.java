package ai.chunkwise.train.checkpoint;

/**
 * Bit-level conversions between float32 and the two 16-bit float formats of safetensors files.
 * Hand-written because Java 17 has none (Float.float16ToFloat arrived in Java 20) and ND4J only
 * converts whole arrays it already owns, not bytes read from a file.
 */
final class HalfFloats {
    private HalfFloats() {
    }

    /** bfloat16 is the upper half of a float32, so widening is exact. */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Round-to-nearest-even narrowing, as torch's float->bfloat16 cast does; NaN stays a (quiet) NaN. */
    static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /**
     * float32 -> IEEE 754 binary16, round-to-nearest-even as torch's cast does: beyond 65504 (from 65520 on) to
     * infinity, below 2^-14 to a subnormal, NaN stays a quiet NaN.
     */
    static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs >= 0x7F800000) {                  // infinity or NaN
            return (short) (sign | 0x7C00 | (abs > 0x7F800000 ? 0x0200 | ((abs >>> 13) & 0x3FF) : 0));
        }
        if (abs >= 0x477FF000) {                  // >= 65520: rounds to infinity
            return (short) (sign | 0x7C00);
        }
        if (abs < 0x38800000) {                   // below 2^-14: a multiple of 2^-24, rounded half to even
            int m = (int) Math.rint(Float.intBitsToFloat(abs) * 0x1.0p24f);   // exact scaling, rint = RNE
            return (short) (sign | m);            // m = 1024 is the smallest normal, 0x0400
        }
        int h = (abs >>> 13) - ((127 - 15) << 10);   // rebias the exponent, keep the top 10 mantissa bits
        int rest = abs & 0x1FFF;
        if (rest > 0x1000 || rest == 0x1000 && (h & 1) == 1) {
            h++;                                  // a carry into the exponent is the right result
        }
        return (short) (sign | h);
    }

    /** IEEE 754 binary16 -> float32; every half value (subnormals, infinities, NaN) is exactly representable. */
    static float f16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h >>> 15) << 31;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {               // infinity or NaN: keep the payload
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {                  // zero or subnormal: mantissa * 2^-24
            float magnitude = mantissa * 0x1.0p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }
}
