;; Optimizer and EMA updates over flat float32 buckets (wasm SIMD) on the tfjs-backend-wasm heap: this module
;; imports that instance's memory, and all pointers are byte addresses in it. Built into optim-kernels.wasm.ts
;; by `npm run build:wasm -w @dapple/models`; optim/fused-updates.ts says why and where they are used.
;; Each function runs 4 values per step and the last n % 4 one by one, in the same float32 arithmetic.
(module
  (import "env" "memory" (memory 1))

  ;; One Adam(W) step over n values, one pass, in the order of the TF.js ops it replaces (1 − β1 and 1 − β2
  ;; come rounded from JS, as those ops get them):
  ;;   g′ = g·scale;  m′ = m·β1 + g′·(1 − β1);  v′ = v·β2 + g′²·(1 − β2)
  ;;   p′ = p·keep − (m′·stepSize) / (√v′·invSqrtBc2 + ε)
  ;; where stepSize = lr / (1 − β1ᵗ), invSqrtBc2 = 1/√(1 − β2ᵗ), keep = 1 − lr·λ (AdamW) or 1 (Adam).
  ;; Outputs go to m2, v2, p2 (they may not alias the inputs).
  (func (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $p2 i32) (param $m2 i32) (param $v2 i32) (param $n i32)
    (param $scale f32) (param $beta1 f32) (param $oneMinusBeta1 f32) (param $beta2 f32) (param $oneMinusBeta2 f32)
    (param $stepSize f32) (param $invSqrtBc2 f32) (param $eps f32) (param $keep f32)
    (local $off i32) (local $end4 i32) (local $end i32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ms f32) (local $vs1 f32)
    (local $vs v128) (local $vb1 v128) (local $vc1 v128) (local $vb2 v128) (local $vc2 v128)
    (local $vstep v128) (local $vinv v128) (local $veps v128) (local $vkeep v128)
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $vb1 (f32x4.splat (local.get $beta1)))
    (local.set $vc1 (f32x4.splat (local.get $oneMinusBeta1)))
    (local.set $vb2 (f32x4.splat (local.get $beta2)))
    (local.set $vc2 (f32x4.splat (local.get $oneMinusBeta2)))
    (local.set $vstep (f32x4.splat (local.get $stepSize)))
    (local.set $vinv (f32x4.splat (local.get $invSqrtBc2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vkeep (f32x4.splat (local.get $keep)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))
    (local.set $off (i32.const 0))
    (block $simdDone
      (br_if $simdDone (i32.eqz (local.get $end4)))
      (loop $l
        (local.set $gv (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $off))) (local.get $vs)))
        (local.set $mv (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $off))) (local.get $vb1))
          (f32x4.mul (local.get $gv) (local.get $vc1))))
        (local.set $vv (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $off))) (local.get $vb2))
          (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $vc2))))
        (v128.store (i32.add (local.get $m2) (local.get $off)) (local.get $mv))
        (v128.store (i32.add (local.get $v2) (local.get $off)) (local.get $vv))
        (v128.store (i32.add (local.get $p2) (local.get $off))
          (f32x4.sub
            (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $off))) (local.get $vkeep))
            (f32x4.div
              (f32x4.mul (local.get $mv) (local.get $vstep))
              (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vv)) (local.get $vinv)) (local.get $veps)))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $off) (local.get $end4)))))
    (block $tailDone
      (br_if $tailDone (i32.ge_u (local.get $off) (local.get $end)))
      (loop $t
        (local.set $gs (f32.mul (f32.load (i32.add (local.get $g) (local.get $off))) (local.get $scale)))
        (local.set $ms (f32.add
          (f32.mul (f32.load (i32.add (local.get $m) (local.get $off))) (local.get $beta1))
          (f32.mul (local.get $gs) (local.get $oneMinusBeta1))))
        (local.set $vs1 (f32.add
          (f32.mul (f32.load (i32.add (local.get $v) (local.get $off))) (local.get $beta2))
          (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusBeta2))))
        (f32.store (i32.add (local.get $m2) (local.get $off)) (local.get $ms))
        (f32.store (i32.add (local.get $v2) (local.get $off)) (local.get $vs1))
        (f32.store (i32.add (local.get $p2) (local.get $off))
          (f32.sub
            (f32.mul (f32.load (i32.add (local.get $p) (local.get $off))) (local.get $keep))
            (f32.div
              (f32.mul (local.get $ms) (local.get $stepSize))
              (f32.add (f32.mul (f32.sqrt (local.get $vs1)) (local.get $invSqrtBc2)) (local.get $eps)))))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (br_if $t (i32.lt_u (local.get $off) (local.get $end))))))

  ;; out = x·a + y·b over n values: the EMA update shadow·d + weights·(1 − d).
  (func (export "axpby") (param $x i32) (param $y i32) (param $out i32) (param $n i32) (param $a f32) (param $b f32)
    (local $off i32) (local $end4 i32) (local $end i32) (local $va v128) (local $vb v128)
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $vb (f32x4.splat (local.get $b)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))
    (local.set $off (i32.const 0))
    (block $simdDone
      (br_if $simdDone (i32.eqz (local.get $end4)))
      (loop $l
        (v128.store (i32.add (local.get $out) (local.get $off))
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $off))) (local.get $va))
            (f32x4.mul (v128.load (i32.add (local.get $y) (local.get $off))) (local.get $vb))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $off) (local.get $end4)))))
    (block $tailDone
      (br_if $tailDone (i32.ge_u (local.get $off) (local.get $end)))
      (loop $t
        (f32.store (i32.add (local.get $out) (local.get $off))
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $x) (local.get $off))) (local.get $a))
            (f32.mul (f32.load (i32.add (local.get $y) (local.get $off))) (local.get $b))))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (br_if $t (i32.lt_u (local.get $off) (local.get $end))))))
)
