// GPU check of tilec::gemm_ss / gemm_rs (include/tilec/gemm_sm80.cuh) against a host fp32 reference.
//
// Each case fills random A, B and C0, writes A and B into shared memory element by element at their SmemTile
// offsets (the way generated code must lay them out), loads C0 into the accumulator with the documented
// register mapping, runs the gemm, stores the accumulator back with the same mapping and compares
// C0 + op(A) @ op(B) with the reference. A wrong swizzle, fragment or mapping gives O(1) errors; the tolerance only
// absorbs the tensor cores' fp32 accumulation order. Prints one line per case and "ALL PASS" or "FAILED n".
// Built and run by test_gemm_sm80.py: nvcc -std=c++17 -O3 -arch=sm_XX -I tilec/include test_gemm_sm80.cu
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <tilec/tilec.cuh>
#include <type_traits>
#include <vector>

using namespace tilec;

#define CUDA_CHECK(expr)                                                                                      \
    do {                                                                                                      \
        cudaError_t err_ = (expr);                                                                            \
        if (err_ != cudaSuccess) {                                                                            \
            std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorString(err_), __FILE__, __LINE__, #expr); \
            std::exit(2);                                                                                     \
        }                                                                                                     \
    } while (0)

// (row, col) of accumulator element idx = (i * NJ + j) * 4 + v of this thread: the contract in gemm_sm80.cuh.
template <int WARP_M, int WM, int WN>
__device__ void acc_coord(int idx, int& row, int& col) {
    constexpr int kNJ = WN / 8;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int v = idx % 4, j = (idx / 4) % kNJ, i = idx / 4 / kNJ;
    row = (warp % WARP_M) * WM + i * 16 + lane / 4 + 8 * (v / 2);
    col = (warp / WARP_M) * WN + j * 8 + (lane % 4) * 2 + v % 2;
}

// Stores a ROWS x COLS row-major global matrix into a SmemTile-laid-out shared tile, one element at a time.
template <int ROWS, int COLS, class T>
__device__ void store_tile(T* s, const T* g) {
    for (int idx = threadIdx.x; idx < ROWS * COLS; idx += blockDim.x) {
        s[SmemTile<ROWS, COLS, sizeof(T)>::offset(idx / COLS, idx % COLS)] = g[idx];
    }
}

// gA is op(A)'s storage: M x K row-major, or K x M when TRANS_A; gB is K x N, or N x K when TRANS_B. gC is M x N.
template <int M, int N, int K, int WARP_M, int WARP_N, bool TRANS_A, bool TRANS_B, class T>
__global__ void gemm_ss_kernel(const T* gA, const T* gB, float* gC) {
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* As = reinterpret_cast<T*>(smem_raw);
    T* Bs = As + M * K;
    if constexpr (TRANS_A)
        store_tile<K, M>(As, gA);
    else
        store_tile<M, K>(As, gA);
    if constexpr (TRANS_B)
        store_tile<N, K>(Bs, gB);
    else
        store_tile<K, N>(Bs, gB);
    __syncthreads();

    constexpr int WM = M / WARP_M, WN = N / WARP_N, kAcc = (WM / 16) * (WN / 8) * 4;
    float acc[kAcc];
#pragma unroll
    for (int idx = 0; idx < kAcc; ++idx) {
        int r, c;
        acc_coord<WARP_M, WM, WN>(idx, r, c);
        acc[idx] = gC[r * N + c];
    }
    gemm_ss<M, N, K, WARP_M, WARP_N, TRANS_A, TRANS_B>(As, Bs, acc);
#pragma unroll
    for (int idx = 0; idx < kAcc; ++idx) {
        int r, c;
        acc_coord<WARP_M, WM, WN>(idx, r, c);
        gC[r * N + c] = acc[idx];
    }
}

// A (M x K row-major) goes to registers with the accumulator mapping over an M x K tile.
template <int M, int N, int K, int WARP_M, bool TRANS_B, class T>
__global__ void gemm_rs_kernel(const T* gA, const T* gB, float* gC) {
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* Bs = reinterpret_cast<T*>(smem_raw);
    if constexpr (TRANS_B)
        store_tile<N, K>(Bs, gB);
    else
        store_tile<K, N>(Bs, gB);

    constexpr int WM = M / WARP_M, kA = (WM / 16) * (K / 8) * 4, kAcc = (WM / 16) * (N / 8) * 4;
    T a[kA];
#pragma unroll
    for (int idx = 0; idx < kA; ++idx) {
        int r, k;
        acc_coord<WARP_M, WM, K>(idx, r, k);
        a[idx] = gA[r * K + k];
    }
    float acc[kAcc];
#pragma unroll
    for (int idx = 0; idx < kAcc; ++idx) {
        int r, c;
        acc_coord<WARP_M, WM, N>(idx, r, c);
        acc[idx] = gC[r * N + c];
    }
    __syncthreads();
    gemm_rs<M, N, K, WARP_M, 1, TRANS_B>(a, Bs, acc);
#pragma unroll
    for (int idx = 0; idx < kAcc; ++idx) {
        int r, c;
        acc_coord<WARP_M, WM, N>(idx, r, c);
        gC[r * N + c] = acc[idx];
    }
}

static int g_failures = 0;

template <class T>
static const char* dtype_name() {
    return std::is_same_v<T, half_t> ? "f16" : "bf16";
}

// Runs one case; REG_A selects gemm_rs (then TRANS_A must be false and WARP_N 1).
template <int M, int N, int K, int WARP_M, int WARP_N, bool TRANS_A, bool TRANS_B, class T, bool REG_A = false>
static void run_case(unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    std::vector<T> hA(M * K), hB(K * N);
    std::vector<float> fA(M * K), fB(K * N), hC(M * N), ref(M * N);
    // The host works on the values as rounded to T, so the only difference left is accumulation order.
    for (int i = 0; i < M * K; ++i) fA[i] = cast<float>(hA[i] = cast<T>(dist(rng)));
    for (int i = 0; i < K * N; ++i) fB[i] = cast<float>(hB[i] = cast<T>(dist(rng)));
    for (int i = 0; i < M * N; ++i) hC[i] = dist(rng);
    for (int m = 0; m < M; ++m) {
        for (int n = 0; n < N; ++n) {
            double s = hC[m * N + n];
            for (int k = 0; k < K; ++k) {
                const float a = TRANS_A ? fA[k * M + m] : fA[m * K + k];
                const float b = TRANS_B ? fB[n * K + k] : fB[k * N + n];
                s += double(a) * double(b);
            }
            ref[m * N + n] = float(s);
        }
    }

    T *dA, *dB;
    float* dC;
    CUDA_CHECK(cudaMalloc(&dA, sizeof(T) * M * K));
    CUDA_CHECK(cudaMalloc(&dB, sizeof(T) * K * N));
    CUDA_CHECK(cudaMalloc(&dC, sizeof(float) * M * N));
    CUDA_CHECK(cudaMemcpy(dA, hA.data(), sizeof(T) * M * K, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dB, hB.data(), sizeof(T) * K * N, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dC, hC.data(), sizeof(float) * M * N, cudaMemcpyHostToDevice));
    const int threads = 32 * WARP_M * WARP_N;
    if constexpr (REG_A) {
        static_assert(!TRANS_A && WARP_N == 1, "gemm_rs cases take A untransposed and one warp column");
        const int smem = sizeof(T) * K * N;
        auto kernel = gemm_rs_kernel<M, N, K, WARP_M, TRANS_B, T>;
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
        kernel<<<1, threads, smem>>>(dA, dB, dC);
    } else {
        const int smem = sizeof(T) * (M * K + K * N);
        auto kernel = gemm_ss_kernel<M, N, K, WARP_M, WARP_N, TRANS_A, TRANS_B, T>;
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
        kernel<<<1, threads, smem>>>(dA, dB, dC);
    }
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(hC.data(), dC, sizeof(float) * M * N, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(dA));
    CUDA_CHECK(cudaFree(dB));
    CUDA_CHECK(cudaFree(dC));

    double max_err = 0, max_ref = 0;
    int worst = 0;
    for (int i = 0; i < M * N; ++i) {
        const double e = std::fabs(double(hC[i]) - double(ref[i]));
        if (!(e <= max_err)) {  // also catches NaN
            max_err = e;
            worst = i;
        }
        max_ref = std::fmax(max_ref, std::fabs(double(ref[i])));
    }
    const double rel = max_err / max_ref;
    const bool ok = rel < 1e-4;
    g_failures += !ok;
    std::printf("%s %s %dx%dx%d w%dx%d %c%c: max_rel_err=%.3g (worst C[%d][%d] = %g, expected %g) %s\n",
                REG_A ? "gemm_rs" : "gemm_ss", dtype_name<T>(), M, N, K, WARP_M, WARP_N,
                REG_A ? 'r' : (TRANS_A ? 't' : 'n'), TRANS_B ? 't' : 'n', rel, worst / N, worst % N, hC[worst],
                ref[worst], ok ? "PASS" : "FAIL");
}

template <int M, int N, int K, int WARP_M, int WARP_N, class T>
static void run_all_transposes(unsigned seed) {
    run_case<M, N, K, WARP_M, WARP_N, false, false, T>(seed);
    run_case<M, N, K, WARP_M, WARP_N, false, true, T>(seed + 1);
    run_case<M, N, K, WARP_M, WARP_N, true, false, T>(seed + 2);
    run_case<M, N, K, WARP_M, WARP_N, true, true, T>(seed + 3);
}

int main() {
    // The plain GEMM block tile (2x2 warps) and the attention-like tile (4x1), every operand order, both dtypes.
    run_all_transposes<128, 128, 32, 2, 2, half_t>(10);
    run_all_transposes<128, 128, 32, 2, 2, bfloat16_t>(20);
    run_all_transposes<64, 128, 64, 4, 1, half_t>(30);
    run_all_transposes<64, 128, 64, 4, 1, bfloat16_t>(40);
    // Unswizzled rows (K = 48: 96-byte A rows; N = 24: 48-byte B rows) and an odd number of n8 tiles per warp (the
    // ldmatrix .x2 tail).
    run_all_transposes<32, 24, 48, 2, 1, half_t>(50);
    // 8 warps; 32-byte rows (K = 16: Swizzle<1>); several 128-byte panels (K = 128).
    run_case<128, 256, 32, 2, 4, false, false, bfloat16_t>(60);
    run_case<64, 64, 16, 2, 2, false, true, half_t>(61);
    run_case<128, 128, 128, 4, 1, false, true, bfloat16_t>(62);
    // Register A (attention's P @ V), both B layouts.
    run_case<64, 64, 64, 4, 1, false, false, half_t, true>(70);
    run_case<64, 64, 64, 4, 1, false, false, bfloat16_t, true>(71);
    run_case<64, 64, 64, 4, 1, false, true, half_t, true>(72);
    run_case<128, 128, 64, 4, 1, false, false, bfloat16_t, true>(73);
    run_case<64, 24, 32, 4, 1, false, true, half_t, true>(74);

    if (g_failures == 0) {
        std::printf("ALL PASS\n");
        return 0;
    }
    std::printf("FAILED %d\n", g_failures);
    return 1;
}
