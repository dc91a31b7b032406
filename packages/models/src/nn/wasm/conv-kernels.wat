;; 2-D convolution kernels (NHWC, float32, wasm SIMD) that run on the tfjs-backend-wasm heap: this module
;; imports that instance's memory, and all pointers are byte addresses in it. Built into conv-kernels.wasm.ts
;; by `npm run build:wasm -w @dapple/models`; wasm-conv.ts says why they exist and where they are used.
(module
  (import "env" "memory" (memory 1))

  ;; dW[i, j, ci, co] += Σ_{b, yo, xo} x[b, yo·s + i − pt, xo·s + j − pl, ci] · dy[b, yo, xo, co]
  ;; over the taps that land inside x (zero padding contributes nothing, so it is skipped, never read).
  ;; x [B,H,W,Cin], dy [B,Ho,Wo,Cout], out [k,k,Cin,Cout] (zeroed by the caller). Needs Cin % 4 == 0 and
  ;; Cout % 8 == 0. Loop order: per chunk of R output rows of a sample and tap (i, j), a 4×8 block of dW
  ;; (4 input channels × 8 output channels, 8 v128 accumulators) runs along the chunk's rows: x and dy are
  ;; read in place, as stored (no im2col copy, no transpose, no packed copy of dy). The caller picks R so the
  ;; chunk's rows stay in L1; on small images more rows per block pass means fewer accumulator loads/stores.
  (func (export "filterGrad")
    (param $x i32) (param $dy i32) (param $out i32)
    (param $B i32) (param $H i32) (param $W i32) (param $Cin i32)
    (param $Ho i32) (param $Wo i32) (param $Cout i32)
    (param $k i32) (param $s i32) (param $pt i32) (param $pl i32) (param $R i32)
    (local $b i32) (local $yc i32) (local $ye i32) (local $ya i32) (local $yb i32) (local $yo i32) (local $i i32) (local $j i32)
    (local $xo0 i32) (local $xo1 i32) (local $num i32) (local $ci i32) (local $co i32)
    (local $otap i32) (local $o i32) (local $px0 i32) (local $pd0 i32)
    (local $px i32) (local $pd i32) (local $n i32)
    (local $xstep i32) (local $dstep i32) (local $orow i32) (local $xrowStep i32) (local $dyrowStep i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $d0 v128) (local $d1 v128) (local $t v128)
    (local.set $xstep (i32.mul (i32.mul (local.get $Cin) (local.get $s)) (i32.const 4)))
    (local.set $dstep (i32.mul (local.get $Cout) (i32.const 4)))
    (local.set $orow (local.get $dstep))
    ;; x advances s rows, dy one row, per output row
    (local.set $xrowStep (i32.mul (i32.mul (local.get $W) (i32.mul (local.get $Cin) (i32.const 4))) (local.get $s)))
    (local.set $dyrowStep (i32.mul (local.get $Wo) (local.get $dstep)))
    (local.set $b (i32.const 0))
    (loop $lb
      (local.set $yc (i32.const 0))
      (loop $lyc
        (local.set $ye (i32.add (local.get $yc) (local.get $R)))
        (if (i32.gt_s (local.get $ye) (local.get $Ho)) (then (local.set $ye (local.get $Ho))))
        (local.set $i (i32.const 0))
        (loop $li
          ;; rows of the chunk whose input row yo·s + i − pt is inside x:
          ;; ya = max(yc, ceil((pt − i)/s)), yb = min(ye, floor((H − 1 + pt − i)/s) + 1)
          (local.set $num (i32.sub (local.get $pt) (local.get $i)))
          (local.set $ya (select
            (i32.div_s (i32.add (local.get $num) (i32.sub (local.get $s) (i32.const 1))) (local.get $s))
            (i32.const 0)
            (i32.gt_s (local.get $num) (i32.const 0))))
          (if (i32.lt_s (local.get $ya) (local.get $yc)) (then (local.set $ya (local.get $yc))))
          (local.set $num (i32.add (i32.sub (local.get $H) (i32.const 1)) (i32.sub (local.get $pt) (local.get $i))))
          (local.set $yb (select
            (i32.add (i32.div_s (local.get $num) (local.get $s)) (i32.const 1))
            (i32.const 0)
            (i32.ge_s (local.get $num) (i32.const 0))))
          (if (i32.gt_s (local.get $yb) (local.get $ye)) (then (local.set $yb (local.get $ye))))
          (if (i32.lt_s (local.get $ya) (local.get $yb))
            (then
              (local.set $j (i32.const 0))
              (loop $lj
                ;; xo0 = max(0, ceil((pl − j)/s)); xo1 = min(Wo, floor((W − 1 + pl − j)/s) + 1)
                (local.set $num (i32.sub (local.get $pl) (local.get $j)))
                (local.set $xo0 (select
                  (i32.div_s (i32.add (local.get $num) (i32.sub (local.get $s) (i32.const 1))) (local.get $s))
                  (i32.const 0)
                  (i32.gt_s (local.get $num) (i32.const 0))))
                (local.set $num (i32.add (i32.sub (local.get $W) (i32.const 1)) (i32.sub (local.get $pl) (local.get $j))))
                (local.set $xo1 (select
                  (i32.add (i32.div_s (local.get $num) (local.get $s)) (i32.const 1))
                  (i32.const 0)
                  (i32.ge_s (local.get $num) (i32.const 0))))
                (if (i32.gt_s (local.get $xo1) (local.get $Wo)) (then (local.set $xo1 (local.get $Wo))))
                (if (i32.lt_s (local.get $xo0) (local.get $xo1))
                  (then
                    ;; out tap block: ((i·k + j)·Cin)·Cout
                    (local.set $otap (i32.add (local.get $out)
                      (i32.mul (i32.mul (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $j)) (local.get $Cin)) (local.get $orow))))
                    ;; x[b, ya·s + i − pt, xo0·s + j − pl, 0] and dy[b, ya, xo0, 0]
                    (local.set $px0 (i32.add (local.get $x)
                      (i32.mul
                        (i32.add
                          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H))
                                            (i32.sub (i32.add (i32.mul (local.get $ya) (local.get $s)) (local.get $i)) (local.get $pt)))
                                   (local.get $W))
                          (i32.add (i32.sub (i32.mul (local.get $xo0) (local.get $s)) (local.get $pl)) (local.get $j)))
                        (i32.mul (local.get $Cin) (i32.const 4)))))
                    (local.set $pd0 (i32.add (local.get $dy)
                      (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $Ho)) (local.get $ya)) (local.get $Wo)) (local.get $xo0))
                               (local.get $dstep))))
                    (local.set $ci (i32.const 0))
                    (loop $lci
                      (local.set $co (i32.const 0))
                      (loop $lco
                        (local.set $o (i32.add (i32.add (local.get $otap) (i32.mul (local.get $ci) (local.get $orow))) (i32.mul (local.get $co) (i32.const 4))))
                        (local.set $a0 (v128.load offset=0 (local.get $o)))
                        (local.set $a1 (v128.load offset=16 (local.get $o)))
                        (local.set $a2 (v128.load offset=0 (i32.add (local.get $o) (local.get $orow))))
                        (local.set $a3 (v128.load offset=16 (i32.add (local.get $o) (local.get $orow))))
                        (local.set $a4 (v128.load offset=0 (i32.add (local.get $o) (i32.shl (local.get $orow) (i32.const 1)))))
                        (local.set $a5 (v128.load offset=16 (i32.add (local.get $o) (i32.shl (local.get $orow) (i32.const 1)))))
                        (local.set $a6 (v128.load offset=0 (i32.add (local.get $o) (i32.mul (local.get $orow) (i32.const 3)))))
                        (local.set $a7 (v128.load offset=16 (i32.add (local.get $o) (i32.mul (local.get $orow) (i32.const 3)))))
                        (local.set $yo (local.get $ya))
                        (loop $lyo
                          ;; this row's x at channel ci and dy at channel co
                          (local.set $px (i32.add (i32.add (local.get $px0) (i32.mul (i32.sub (local.get $yo) (local.get $ya)) (local.get $xrowStep)))
                                                  (i32.shl (local.get $ci) (i32.const 2))))
                          (local.set $pd (i32.add (i32.add (local.get $pd0) (i32.mul (i32.sub (local.get $yo) (local.get $ya)) (local.get $dyrowStep)))
                                                  (i32.shl (local.get $co) (i32.const 2))))
                          (local.set $n (i32.sub (local.get $xo1) (local.get $xo0)))
                          (loop $lx
                            (local.set $d0 (v128.load offset=0 (local.get $pd)))
                            (local.set $d1 (v128.load offset=16 (local.get $pd)))
                            ;; x[ci + l] broadcast by the load itself (load ports are idler than the shuffle unit)
                            (local.set $t (v128.load32_splat offset=0 (local.get $px)))
                            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $t) (local.get $d0))))
                            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $t) (local.get $d1))))
                            (local.set $t (v128.load32_splat offset=4 (local.get $px)))
                            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $t) (local.get $d0))))
                            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $t) (local.get $d1))))
                            (local.set $t (v128.load32_splat offset=8 (local.get $px)))
                            (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $t) (local.get $d0))))
                            (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $t) (local.get $d1))))
                            (local.set $t (v128.load32_splat offset=12 (local.get $px)))
                            (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $t) (local.get $d0))))
                            (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $t) (local.get $d1))))
                            (local.set $px (i32.add (local.get $px) (local.get $xstep)))
                            (local.set $pd (i32.add (local.get $pd) (local.get $dstep)))
                            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                            (br_if $lx (local.get $n)))
                          (local.set $yo (i32.add (local.get $yo) (i32.const 1)))
                          (br_if $lyo (i32.lt_s (local.get $yo) (local.get $yb))))
                        (v128.store offset=0 (local.get $o) (local.get $a0))
                        (v128.store offset=16 (local.get $o) (local.get $a1))
                        (v128.store offset=0 (i32.add (local.get $o) (local.get $orow)) (local.get $a2))
                        (v128.store offset=16 (i32.add (local.get $o) (local.get $orow)) (local.get $a3))
                        (v128.store offset=0 (i32.add (local.get $o) (i32.shl (local.get $orow) (i32.const 1))) (local.get $a4))
                        (v128.store offset=16 (i32.add (local.get $o) (i32.shl (local.get $orow) (i32.const 1))) (local.get $a5))
                        (v128.store offset=0 (i32.add (local.get $o) (i32.mul (local.get $orow) (i32.const 3))) (local.get $a6))
                        (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $orow) (i32.const 3))) (local.get $a7))
                        (local.set $co (i32.add (local.get $co) (i32.const 8)))
                        (br_if $lco (i32.lt_s (local.get $co) (local.get $Cout))))
                      (local.set $ci (i32.add (local.get $ci) (i32.const 4)))
                      (br_if $lci (i32.lt_s (local.get $ci) (local.get $Cin))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $lj (i32.lt_s (local.get $j) (local.get $k))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $li (i32.lt_s (local.get $i) (local.get $k))))
        (local.set $yc (i32.add (local.get $yc) (local.get $R)))
        (br_if $lyc (i32.lt_s (local.get $yc) (local.get $Ho))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $lb (i32.lt_s (local.get $b) (local.get $B)))))

  ;; out[co] = Σ_r dy[r, co] over `rows` rows of Cout values (the bias gradient). Needs Cout % 4 == 0;
  ;; out is zeroed by the caller.
  (func (export "colSum") (param $dy i32) (param $out i32) (param $rows i32) (param $Cout i32)
    (local $r i32) (local $co i32) (local $p i32) (local $o i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.mul (local.get $Cout) (i32.const 4)))
    (local.set $p (local.get $dy))
    (local.set $r (i32.const 0))
    (loop $lr
      (local.set $co (i32.const 0))
      (loop $lco
        (local.set $o (i32.add (local.get $out) (local.get $co)))
        (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (v128.load (i32.add (local.get $p) (local.get $co)))))
        (local.set $co (i32.add (local.get $co) (i32.const 16)))
        (br_if $lco (i32.lt_s (local.get $co) (local.get $rowBytes))))
      (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $lr (i32.lt_s (local.get $r) (local.get $rows)))))

  ;; y[b, yo, xo, n] = bias[n] + Σ_{i, j < k, c < C} x[b, yo + i − pt, xo + j − pl, c] · f[i, j, c, n], with x
  ;; zero outside [0, H) × [0, W): a stride-1 conv whose zero padding (pt rows before, pl columns before) is
  ;; never materialised. x [B, H, W, C], f [k, k, C, N], bias [N] or 0 for none, y [B, Ho, Wo, N]; scratch holds
  ;; k·(k + 3)·C floats. Needs Wo % 4 == 0 and N % 8 == 0.
  ;; A block of 4 neighbouring output pixels × 8 output channels (8 v128 accumulators) runs over its k·k·C
  ;; inputs once. For a fixed kernel row i, the (j, c) pairs are one contiguous run of x's row and of f, so
  ;; the inner loop only steps two pointers. Quads whose k + 3 input columns reach past x's left or right
  ;; edge first copy those columns of their k rows into scratch, zero-filled outside x, and read from there.
  (func (export "conv")
    (param $x i32) (param $f i32) (param $bias i32) (param $y i32) (param $scratch i32)
    (param $B i32) (param $H i32) (param $W i32) (param $C i32) (param $Ho i32) (param $Wo i32) (param $N i32)
    (param $k i32) (param $pt i32) (param $pl i32)
    (local $b i32) (local $yo i32) (local $xo i32) (local $n i32) (local $i i32) (local $m i32) (local $col i32)
    (local $yi i32) (local $xi i32) (local $pix i32) (local $pix2 i32) (local $pix3 i32)
    (local $rowBytes i32) (local $stripCols i32) (local $stripBytes i32)
    (local $base i32) (local $stride i32) (local $edge i32) (local $dst i32)
    (local $px i32) (local $pf i32) (local $fstep i32) (local $kc i32) (local $py i32) (local $src i32) (local $e i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $w0 v128) (local $w1 v128) (local $t v128)
    (local.set $pix (i32.shl (local.get $C) (i32.const 2)))
    (local.set $pix2 (i32.shl (local.get $pix) (i32.const 1)))
    (local.set $pix3 (i32.add (local.get $pix2) (local.get $pix)))
    (local.set $rowBytes (i32.mul (local.get $W) (local.get $pix)))
    (local.set $stripCols (i32.add (local.get $k) (i32.const 3)))
    (local.set $stripBytes (i32.mul (local.get $stripCols) (local.get $pix)))
    (local.set $fstep (i32.shl (local.get $N) (i32.const 2)))
    (local.set $kc (i32.mul (local.get $k) (local.get $C)))
    (local.set $b (i32.const 0))
    (loop $lb
      (local.set $yo (i32.const 0))
      (loop $lyo
        (local.set $xo (i32.const 0))
        (loop $lxo
          ;; edge quad: its input columns xo − pl … xo − pl + k + 2 are not all inside [0, W)
          (local.set $edge (i32.or
            (i32.lt_s (i32.sub (local.get $xo) (local.get $pl)) (i32.const 0))
            (i32.gt_s (i32.add (i32.sub (local.get $xo) (local.get $pl)) (i32.add (local.get $k) (i32.const 2)))
                      (i32.sub (local.get $W) (i32.const 1)))))
          (if (local.get $edge)
            (then
              ;; scratch[i] = x[b, yo + i − pt, xo − pl … xo − pl + k + 2, :], zeros outside x
              (local.set $i (i32.const 0))
              (loop $lsi
                (local.set $yi (i32.sub (i32.add (local.get $yo) (local.get $i)) (local.get $pt)))
                (local.set $col (i32.const 0))
                (loop $lsc
                  (local.set $xi (i32.add (i32.sub (local.get $xo) (local.get $pl)) (local.get $col)))
                  (local.set $dst (i32.add (i32.add (local.get $scratch) (i32.mul (local.get $i) (local.get $stripBytes)))
                                           (i32.mul (local.get $col) (local.get $pix))))
                  (if (i32.and
                        (i32.and (i32.ge_s (local.get $yi) (i32.const 0)) (i32.lt_s (local.get $yi) (local.get $H)))
                        (i32.and (i32.ge_s (local.get $xi) (i32.const 0)) (i32.lt_s (local.get $xi) (local.get $W))))
                    ;; plain copy loops, not memory.copy / memory.fill: V8 compiles those to calls, and with
                    ;; them in this function the conv ran at half speed on 32-channel 32×32 inputs (11 against
                    ;; 22 GMAC/s, bench/conv-micro.ts), though the calls sit outside the inner loop
                    (then
                      (local.set $src
                        (i32.add (local.get $x)
                          (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $yi)) (local.get $rowBytes))
                                   (i32.mul (local.get $xi) (local.get $pix)))))
                      (local.set $e (i32.const 0))
                      (loop $lcp
                        (i32.store (i32.add (local.get $dst) (local.get $e)) (i32.load (i32.add (local.get $src) (local.get $e))))
                        (local.set $e (i32.add (local.get $e) (i32.const 4)))
                        (br_if $lcp (i32.lt_u (local.get $e) (local.get $pix)))))
                    (else
                      (local.set $e (i32.const 0))
                      (loop $lz
                        (i32.store (i32.add (local.get $dst) (local.get $e)) (i32.const 0))
                        (local.set $e (i32.add (local.get $e) (i32.const 4)))
                        (br_if $lz (i32.lt_u (local.get $e) (local.get $pix))))))
                  (local.set $col (i32.add (local.get $col) (i32.const 1)))
                  (br_if $lsc (i32.lt_s (local.get $col) (local.get $stripCols))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $lsi (i32.lt_s (local.get $i) (local.get $k))))
              (local.set $base (local.get $scratch))
              (local.set $stride (local.get $stripBytes)))
            (else
              ;; x[b, yo − pt, xo − pl, 0]: rows outside x are skipped below, never read
              (local.set $base (i32.add (local.get $x)
                (i32.add (i32.mul (i32.sub (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $yo)) (local.get $pt)) (local.get $rowBytes))
                         (i32.mul (i32.sub (local.get $xo) (local.get $pl)) (local.get $pix)))))
              (local.set $stride (local.get $rowBytes))))
          (local.set $n (i32.const 0))
          (loop $ln
            (if (local.get $bias)
              (then
                (local.set $a0 (v128.load offset=0 (i32.add (local.get $bias) (i32.shl (local.get $n) (i32.const 2)))))
                (local.set $a1 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $n) (i32.const 2))))))
              (else
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $a1 (v128.const i32x4 0 0 0 0))))
            (local.set $a2 (local.get $a0)) (local.set $a3 (local.get $a1))
            (local.set $a4 (local.get $a0)) (local.set $a5 (local.get $a1))
            (local.set $a6 (local.get $a0)) (local.set $a7 (local.get $a1))
            (local.set $i (i32.const 0))
            (loop $li
              (local.set $yi (i32.sub (i32.add (local.get $yo) (local.get $i)) (local.get $pt)))
              (if (i32.and (i32.ge_s (local.get $yi) (i32.const 0)) (i32.lt_s (local.get $yi) (local.get $H)))
                (then
                  (local.set $px (i32.add (local.get $base) (i32.mul (local.get $i) (local.get $stride))))
                  ;; f[i, 0, 0, n]
                  (local.set $pf (i32.add (local.get $f)
                    (i32.shl (i32.add (i32.mul (i32.mul (local.get $i) (local.get $kc)) (local.get $N)) (local.get $n)) (i32.const 2))))
                  (local.set $m (local.get $kc))
                  (loop $lm
                    (local.set $w0 (v128.load offset=0 (local.get $pf)))
                    (local.set $w1 (v128.load offset=16 (local.get $pf)))
                    (local.set $t (v128.load32_splat (local.get $px)))
                    (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $t) (local.get $w0))))
                    (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $t) (local.get $w1))))
                    (local.set $t (v128.load32_splat (i32.add (local.get $px) (local.get $pix))))
                    (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $t) (local.get $w0))))
                    (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $t) (local.get $w1))))
                    (local.set $t (v128.load32_splat (i32.add (local.get $px) (local.get $pix2))))
                    (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $t) (local.get $w0))))
                    (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $t) (local.get $w1))))
                    (local.set $t (v128.load32_splat (i32.add (local.get $px) (local.get $pix3))))
                    (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $t) (local.get $w0))))
                    (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $t) (local.get $w1))))
                    (local.set $px (i32.add (local.get $px) (i32.const 4)))
                    (local.set $pf (i32.add (local.get $pf) (local.get $fstep)))
                    (local.set $m (i32.sub (local.get $m) (i32.const 1)))
                    (br_if $lm (local.get $m)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $li (i32.lt_s (local.get $i) (local.get $k))))
            ;; y[b, yo, xo + q, n]
            (local.set $py (i32.add (local.get $y)
              (i32.shl (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $Ho)) (local.get $yo)) (local.get $Wo)) (local.get $xo)) (local.get $N)) (local.get $n)) (i32.const 2))))
            (v128.store offset=0 (local.get $py) (local.get $a0))
            (v128.store offset=16 (local.get $py) (local.get $a1))
            (local.set $py (i32.add (local.get $py) (local.get $fstep)))
            (v128.store offset=0 (local.get $py) (local.get $a2))
            (v128.store offset=16 (local.get $py) (local.get $a3))
            (local.set $py (i32.add (local.get $py) (local.get $fstep)))
            (v128.store offset=0 (local.get $py) (local.get $a4))
            (v128.store offset=16 (local.get $py) (local.get $a5))
            (local.set $py (i32.add (local.get $py) (local.get $fstep)))
            (v128.store offset=0 (local.get $py) (local.get $a6))
            (v128.store offset=16 (local.get $py) (local.get $a7))
            (local.set $n (i32.add (local.get $n) (i32.const 8)))
            (br_if $ln (i32.lt_s (local.get $n) (local.get $N))))
          (local.set $xo (i32.add (local.get $xo) (i32.const 4)))
          (br_if $lxo (i32.lt_s (local.get $xo) (local.get $Wo))))
        (local.set $yo (i32.add (local.get $yo) (i32.const 1)))
        (br_if $lyo (i32.lt_s (local.get $yo) (local.get $Ho))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $lb (i32.lt_s (local.get $b) (local.get $B)))))

  ;; f[t, co, ci] = w[k² − 1 − t, ci, co] for the k² taps t = i·k + j: the input gradient's filter, i.e. w
  ;; with both spatial axes reversed (tap k²−1−t is tap (k−1−i, k−1−j)) and each tap's [Cin, Cout] matrix
  ;; transposed. w [k², Cin, Cout], f [k², Cout, Cin].
  (func (export "flipSwap") (param $w i32) (param $f i32) (param $k2 i32) (param $cin i32) (param $cout i32)
    (local $t i32) (local $co i32) (local $ci i32) (local $src i32) (local $dst i32) (local $tapBytes i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $cout) (i32.const 2)))
    (local.set $tapBytes (i32.mul (local.get $cin) (local.get $rowBytes)))
    (local.set $dst (local.get $f))
    (local.set $t (i32.const 0))
    (loop $lt
      (local.set $co (i32.const 0))
      (loop $lco
        ;; w[k² − 1 − t, 0, co]
        (local.set $src (i32.add (i32.add (local.get $w) (i32.mul (i32.sub (i32.sub (local.get $k2) (i32.const 1)) (local.get $t)) (local.get $tapBytes)))
                                 (i32.shl (local.get $co) (i32.const 2))))
        (local.set $ci (i32.const 0))
        (loop $lci
          (f32.store (local.get $dst) (f32.load (local.get $src)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
          (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
          (br_if $lci (i32.lt_u (local.get $ci) (local.get $cin))))
        (local.set $co (i32.add (local.get $co) (i32.const 1)))
        (br_if $lco (i32.lt_u (local.get $co) (local.get $cout))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $lt (i32.lt_u (local.get $t) (local.get $k2)))))
)
