// The model as a 3D stack (@react-three/fiber): layers as floors, heads as tiles; tile height is
// density and colour is recall. Orbit with the mouse; click a tile to choose its head.
import { Canvas } from '@react-three/fiber';
import { OrbitControls } from '@react-three/drei';
import { headName, useStudio } from '../../state/store';
import { chooseHead } from '../../state/head';
import { recallColor } from './colors';

export default function Stack3D({ height }: { height: number }) {
  const layers = useStudio((s) => s.layers);
  const model = useStudio((s) => s.model);
  const chosen = useStudio((s) => s.chosen);
  if (!model) return null;
  const H = model.config.numHeads;
  const L = model.config.numLayers;
  const cols = Math.ceil(Math.sqrt(H));
  const rows = Math.ceil(H / cols);
  const gap = 1.15;
  const floor = 1.2;
  const span = Math.max(cols * gap, L * floor);
  return (
    <div style={{ height }} className="stack3d" role="img" aria-label="3D view of layers and heads: height is density, colour is recall">
      <Canvas camera={{ position: [span * 1.2, span * 0.9, span * 1.4], fov: 45 }}>
        <ambientLight intensity={0.6} />
        <directionalLight position={[5, 10, 7]} intensity={1.2} />
        {layers.map((layer, l) => (
          <group key={l} position={[0, l * floor, 0]}>
            <mesh position={[0, -0.03, 0]}>
              <boxGeometry args={[cols * gap, 0.04, rows * gap]} />
              <meshStandardMaterial color="#262a33" transparent opacity={0.5} />
            </mesh>
            {layer?.heads.map((sel, h) => {
              const hgt = 0.05 + 1.0 * sel.density;
              const isChosen = chosen?.layer === l && chosen?.head === h;
              return (
                <mesh
                  key={h}
                  position={[((h % cols) - (cols - 1) / 2) * gap, hgt / 2, (Math.floor(h / cols) - (rows - 1) / 2) * gap]}
                  name={headName(l, h)}
                  onClick={(e) => { e.stopPropagation(); void chooseHead(l, h); }}
                >
                  <boxGeometry args={[0.9, hgt, 0.9]} />
                  <meshStandardMaterial color={recallColor(sel.recallMean)} emissive={isChosen ? '#ffffff' : '#000000'} emissiveIntensity={isChosen ? 0.35 : 0} />
                </mesh>
              );
            })}
          </group>
        ))}
        <OrbitControls makeDefault target={[0, (L * floor) / 2, 0]} />
      </Canvas>
    </div>
  );
}
