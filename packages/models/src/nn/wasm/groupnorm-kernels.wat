;; GroupNorm kernels (NHWC, float32, wasm SIMD) that run on the tfjs-backend-wasm heap: this module imports
;; that instance's memory, and all pointers are byte addresses in it. Built into groupnorm-kernels.wasm.ts by
;; `npm run build:wasm -w @dapple/models`; wasm-groupnorm.ts says why and where they are used.
(module
  (import "env" "memory" (memory 1))

  ;; Backward of y = silu(z), z = GroupNorm(x)·γ + β (or of z alone when s = 0), for all samples at once.
  ;; dy, s = σ(z), y, xc = x − μ, dx: [B, P, C] (P pixels); r: [B, C], 1/σ of each channel's group;
  ;; gamma: [C]; dgamma, dbeta: [C], zeroed by the caller (sums over samples); scratch: 5·C floats.
  ;; C % 4 == 0 and G divides C. Per sample, with n = P·C/G values per group and x̂ = xc·r:
  ;;   pass 1: dz = dy·(s + y·(1 − s)) (silu′), stored in dx; P[c] = Σ dz, Q[c] = Σ dz·xc
  ;;   groups: a = Σ_g γ·P / n, bq = r·Σ_g γ·Q / n; dγ += r·Q (= Σ dz·x̂), dβ += P
  ;;   pass 2: dx = r·(γ·dz − a − x̂·bq) = dz·(r·γ) + xc·(−r²·bq) + (−r·a)
  (func (export "groupNormBackward")
    (param $dy i32) (param $s i32) (param $y i32) (param $xc i32) (param $r i32) (param $gamma i32)
    (param $dx i32) (param $dgamma i32) (param $dbeta i32) (param $scratch i32)
    (param $B i32) (param $P i32) (param $C i32) (param $G i32)
    (local $b i32) (local $p i32) (local $c i32) (local $g i32) (local $cpg i32) (local $cEnd i32)
    (local $rowBytes i32) (local $sampleBytes i32) (local $base i32) (local $end i32) (local $off i32)
    (local $sumP i32) (local $sumQ i32) (local $k1 i32) (local $k2 i32) (local $k3 i32) (local $rb i32)
    (local $n f32) (local $accP f32) (local $accQ f32) (local $a f32) (local $bq f32) (local $rv f32) (local $gv f32)
    (local $d v128) (local $sv v128) (local $yv v128) (local $xv v128) (local $q i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $sampleBytes (i32.mul (local.get $P) (local.get $rowBytes)))
    (local.set $cpg (i32.div_u (local.get $C) (local.get $G)))
    (local.set $n (f32.convert_i32_u (i32.mul (local.get $P) (local.get $cpg))))
    ;; scratch: P sums, Q sums, K1, K2, K3 (C floats each)
    (local.set $sumP (local.get $scratch))
    (local.set $sumQ (i32.add (local.get $sumP) (local.get $rowBytes)))
    (local.set $k1 (i32.add (local.get $sumQ) (local.get $rowBytes)))
    (local.set $k2 (i32.add (local.get $k1) (local.get $rowBytes)))
    (local.set $k3 (i32.add (local.get $k2) (local.get $rowBytes)))
    (local.set $b (i32.const 0))
    (loop $lb
      (local.set $base (i32.mul (local.get $b) (local.get $sampleBytes)))
      (local.set $end (i32.add (local.get $base) (local.get $sampleBytes)))
      ;; zero the channel sums
      (local.set $c (i32.const 0))
      (loop $lz
        (v128.store (i32.add (local.get $sumP) (local.get $c)) (v128.const i32x4 0 0 0 0))
        (v128.store (i32.add (local.get $sumQ) (local.get $c)) (v128.const i32x4 0 0 0 0))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br_if $lz (i32.lt_u (local.get $c) (local.get $rowBytes))))
      ;; pass 1: dz = dy·silu'(z) (or dy), written to dx; P[c] += dz, Q[c] += dz·xc
      (local.set $off (local.get $base))
      (loop $lp1
        (local.set $c (i32.const 0))
        (loop $lc1
          (local.set $d (v128.load (i32.add (local.get $dy) (local.get $off))))
          (if (local.get $s)
            (then
              ;; silu'(z) = s + y·(1 − s), with s = σ(z) and y = z·s saved by the forward pass
              (local.set $sv (v128.load (i32.add (local.get $s) (local.get $off))))
              (local.set $yv (v128.load (i32.add (local.get $y) (local.get $off))))
              (local.set $d (f32x4.mul (local.get $d)
                (f32x4.add (local.get $sv) (f32x4.sub (local.get $yv) (f32x4.mul (local.get $yv) (local.get $sv))))))))
          (v128.store (i32.add (local.get $dx) (local.get $off)) (local.get $d))
          (local.set $xv (v128.load (i32.add (local.get $xc) (local.get $off))))
          (v128.store (i32.add (local.get $sumP) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $sumP) (local.get $c))) (local.get $d)))
          (v128.store (i32.add (local.get $sumQ) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $sumQ) (local.get $c))) (f32x4.mul (local.get $d) (local.get $xv))))
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $lc1 (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (br_if $lp1 (i32.lt_u (local.get $off) (local.get $end))))
      ;; per group: a = Σγ·P / n, bq = r·Σγ·Q / n; per channel: K1 = r·γ, K2 = −r²·bq, K3 = −r·a;
      ;; dγ += r·Q (= Σ dz·x̂), dβ += P
      (local.set $rb (i32.add (local.get $r) (i32.mul (local.get $b) (local.get $rowBytes))))
      (local.set $g (i32.const 0))
      (loop $lg
        (local.set $c (i32.mul (local.get $g) (local.get $cpg)))
        (local.set $cEnd (i32.add (local.get $c) (local.get $cpg)))
        (local.set $accP (f32.const 0))
        (local.set $accQ (f32.const 0))
        (loop $lsum
          (local.set $off (i32.shl (local.get $c) (i32.const 2)))
          (local.set $gv (f32.load (i32.add (local.get $gamma) (local.get $off))))
          (local.set $accP (f32.add (local.get $accP) (f32.mul (local.get $gv) (f32.load (i32.add (local.get $sumP) (local.get $off))))))
          (local.set $accQ (f32.add (local.get $accQ) (f32.mul (local.get $gv) (f32.load (i32.add (local.get $sumQ) (local.get $off))))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $lsum (i32.lt_u (local.get $c) (local.get $cEnd))))
        (local.set $c (i32.mul (local.get $g) (local.get $cpg)))
        (local.set $rv (f32.load (i32.add (local.get $rb) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $a (f32.div (local.get $accP) (local.get $n)))
        (local.set $bq (f32.div (f32.mul (local.get $rv) (local.get $accQ)) (local.get $n)))
        (loop $lk
          (local.set $off (i32.shl (local.get $c) (i32.const 2)))
          (f32.store (i32.add (local.get $k1) (local.get $off)) (f32.mul (local.get $rv) (f32.load (i32.add (local.get $gamma) (local.get $off)))))
          (f32.store (i32.add (local.get $k2) (local.get $off)) (f32.neg (f32.mul (f32.mul (local.get $rv) (local.get $rv)) (local.get $bq))))
          (f32.store (i32.add (local.get $k3) (local.get $off)) (f32.neg (f32.mul (local.get $rv) (local.get $a))))
          (f32.store (i32.add (local.get $dgamma) (local.get $off))
            (f32.add (f32.load (i32.add (local.get $dgamma) (local.get $off)))
                     (f32.mul (local.get $rv) (f32.load (i32.add (local.get $sumQ) (local.get $off))))))
          (f32.store (i32.add (local.get $dbeta) (local.get $off))
            (f32.add (f32.load (i32.add (local.get $dbeta) (local.get $off))) (f32.load (i32.add (local.get $sumP) (local.get $off)))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $lk (i32.lt_u (local.get $c) (local.get $cEnd))))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br_if $lg (i32.lt_u (local.get $g) (local.get $G))))
      ;; pass 2: dx = dz·K1 + xc·K2 + K3
      (local.set $off (local.get $base))
      (loop $lp2
        (local.set $c (i32.const 0))
        (loop $lc2
          (local.set $q (i32.add (local.get $dx) (local.get $off)))
          (v128.store (local.get $q)
            (f32x4.add
              (f32x4.add
                (f32x4.mul (v128.load (local.get $q)) (v128.load (i32.add (local.get $k1) (local.get $c))))
                (f32x4.mul (v128.load (i32.add (local.get $xc) (local.get $off))) (v128.load (i32.add (local.get $k2) (local.get $c)))))
              (v128.load (i32.add (local.get $k3) (local.get $c)))))
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $lc2 (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (br_if $lp2 (i32.lt_u (local.get $off) (local.get $end))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $lb (i32.lt_u (local.get $b) (local.get $B)))))

  ;; Forward of y = silu(z) (or y = z when s = 0), z = GroupNorm(x)·γ + β, for all samples at once, writing what
  ;; groupNormBackward reads. x, xc (out: x − μ), s (out: σ(z), or 0 for none), y (out): [B, P, C] (P pixels);
  ;; r (out): [B, C], 1/σ of each channel's group; gamma, beta: [C]; scratch: 2·C floats. C % 4 == 0 and G divides
  ;; C. Per sample, with n = P·C/G values per group:
  ;;   pass 1: S[c] = Σ x; per group μ = Σ_g S / n
  ;;   pass 2: xc = x − μ, written; Q[c] = Σ xc²; per group r = 1/√(Σ_g Q / n + eps) (the variance of the
  ;;           centred values, as the op-by-op path takes it)
  ;;   pass 3: z = xc·(r·γ) + β; s = 1/(1 + e^−z), y = z·s, with e^t = 2^k·e^f (k = round(t·log2 e),
  ;;           f = t − k·ln 2 in two parts, e^f by Cephes' expf polynomial: ~1e-7 relative), t clamped to [−87, 88]
  (func (export "groupNormForward")
    (param $x i32) (param $gamma i32) (param $beta i32) (param $xc i32) (param $r i32) (param $s i32) (param $y i32)
    (param $scratch i32) (param $B i32) (param $P i32) (param $C i32) (param $G i32) (param $eps f32)
    (local $b i32) (local $c i32) (local $g i32) (local $cpg i32) (local $cEnd i32) (local $o i32)
    (local $rowBytes i32) (local $sampleBytes i32) (local $base i32) (local $end i32) (local $off i32)
    (local $sum i32) (local $k i32) (local $rb i32)
    (local $n f32) (local $acc f32) (local $rv f32)
    (local $v v128) (local $z v128) (local $t v128) (local $kf v128) (local $f v128) (local $p v128) (local $sv v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $sampleBytes (i32.mul (local.get $P) (local.get $rowBytes)))
    (local.set $cpg (i32.div_u (local.get $C) (local.get $G)))
    (local.set $n (f32.convert_i32_u (i32.mul (local.get $P) (local.get $cpg))))
    (local.set $sum (local.get $scratch))
    (local.set $k (i32.add (local.get $scratch) (local.get $rowBytes)))
    (local.set $b (i32.const 0))
    (loop $lb
      (local.set $base (i32.mul (local.get $b) (local.get $sampleBytes)))
      (local.set $end (i32.add (local.get $base) (local.get $sampleBytes)))
      (local.set $rb (i32.add (local.get $r) (i32.mul (local.get $b) (local.get $rowBytes))))
      ;; pass 1: S[c] = Σ x
      (local.set $c (i32.const 0))
      (loop $lz
        (v128.store (i32.add (local.get $sum) (local.get $c)) (v128.const i32x4 0 0 0 0))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br_if $lz (i32.lt_u (local.get $c) (local.get $rowBytes))))
      (local.set $off (local.get $base))
      (loop $lp1
        (local.set $c (i32.const 0))
        (loop $lc1
          (local.set $o (i32.add (local.get $sum) (local.get $c)))
          (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (v128.load (i32.add (local.get $x) (local.get $off)))))
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $lc1 (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (br_if $lp1 (i32.lt_u (local.get $off) (local.get $end))))
      ;; per group: K[c] = μ; S zeroed for pass 2
      (local.set $g (i32.const 0))
      (loop $lg
        (local.set $c (i32.mul (local.get $g) (local.get $cpg)))
        (local.set $cEnd (i32.add (local.get $c) (local.get $cpg)))
        (local.set $acc (f32.const 0))
        (loop $ls
          (local.set $acc (f32.add (local.get $acc) (f32.load (i32.add (local.get $sum) (i32.shl (local.get $c) (i32.const 2))))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $ls (i32.lt_u (local.get $c) (local.get $cEnd))))
        (local.set $acc (f32.div (local.get $acc) (local.get $n)))
        (local.set $c (i32.mul (local.get $g) (local.get $cpg)))
        (loop $lm
          (f32.store (i32.add (local.get $k) (i32.shl (local.get $c) (i32.const 2))) (local.get $acc))
          (f32.store (i32.add (local.get $sum) (i32.shl (local.get $c) (i32.const 2))) (f32.const 0))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $lm (i32.lt_u (local.get $c) (local.get $cEnd))))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br_if $lg (i32.lt_u (local.get $g) (local.get $G))))
      ;; pass 2: xc = x − μ, Q[c] = Σ xc²
      (local.set $off (local.get $base))
      (loop $lp2
        (local.set $c (i32.const 0))
        (loop $lc2
          (local.set $v (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $off))) (v128.load (i32.add (local.get $k) (local.get $c)))))
          (v128.store (i32.add (local.get $xc) (local.get $off)) (local.get $v))
          (local.set $o (i32.add (local.get $sum) (local.get $c)))
          (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (f32x4.mul (local.get $v) (local.get $v))))
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $lc2 (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (br_if $lp2 (i32.lt_u (local.get $off) (local.get $end))))
      ;; per group: r = 1/√(var + eps), written to r[b]; K[c] = r·γ
      (local.set $g (i32.const 0))
      (loop $lg2
        (local.set $c (i32.mul (local.get $g) (local.get $cpg)))
        (local.set $cEnd (i32.add (local.get $c) (local.get $cpg)))
        (local.set $acc (f32.const 0))
        (loop $ls2
          (local.set $acc (f32.add (local.get $acc) (f32.load (i32.add (local.get $sum) (i32.shl (local.get $c) (i32.const 2))))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $ls2 (i32.lt_u (local.get $c) (local.get $cEnd))))
        (local.set $rv (f32.div (f32.const 1) (f32.sqrt (f32.add (f32.div (local.get $acc) (local.get $n)) (local.get $eps)))))
        (local.set $c (i32.mul (local.get $g) (local.get $cpg)))
        (loop $lr
          (local.set $o (i32.shl (local.get $c) (i32.const 2)))
          (f32.store (i32.add (local.get $rb) (local.get $o)) (local.get $rv))
          (f32.store (i32.add (local.get $k) (local.get $o)) (f32.mul (local.get $rv) (f32.load (i32.add (local.get $gamma) (local.get $o)))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $lr (i32.lt_u (local.get $c) (local.get $cEnd))))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br_if $lg2 (i32.lt_u (local.get $g) (local.get $G))))
      ;; pass 3: z = xc·K + β; y = z, or s = σ(z) and y = z·s
      (local.set $off (local.get $base))
      (loop $lp3
        (local.set $c (i32.const 0))
        (loop $lc3
          (local.set $z (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $xc) (local.get $off))) (v128.load (i32.add (local.get $k) (local.get $c))))
            (v128.load (i32.add (local.get $beta) (local.get $c)))))
          (if (local.get $s)
            (then
              ;; t = −z clamped; e^t = 2^kf · e^f
              (local.set $t (f32x4.min (f32x4.max (f32x4.neg (local.get $z)) (v128.const f32x4 -87 -87 -87 -87)) (v128.const f32x4 88 88 88 88)))
              (local.set $kf (f32x4.nearest (f32x4.mul (local.get $t) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
              (local.set $f (f32x4.sub
                (f32x4.sub (local.get $t) (f32x4.mul (local.get $kf) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
                (f32x4.mul (local.get $kf) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
              (local.set $p (f32x4.add (f32x4.mul (local.get $f) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
                (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
              (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
              (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
              (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
              (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
              ;; e^f = p·f² + f + 1, times 2^kf (kf + 127 in the exponent bits)
              (local.set $p (f32x4.add (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $f) (local.get $f))) (local.get $f))
                (v128.const f32x4 1 1 1 1)))
              (local.set $p (f32x4.mul (local.get $p)
                (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $kf)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))
              (local.set $sv (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $p))))
              (v128.store (i32.add (local.get $s) (local.get $off)) (local.get $sv))
              (v128.store (i32.add (local.get $y) (local.get $off)) (f32x4.mul (local.get $z) (local.get $sv))))
            (else
              (v128.store (i32.add (local.get $y) (local.get $off)) (local.get $z))))
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $lc3 (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (br_if $lp3 (i32.lt_u (local.get $off) (local.get $end))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $lb (i32.lt_u (local.get $b) (local.get $B)))))
)
