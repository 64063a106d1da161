import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AuthProvider } from './auth/AuthProvider';
import { SESSIONS_PATH, SessionsPage } from './components/account/SessionsPage';
import { Login } from './components/auth/Login';
import { Register } from './components/auth/Register';
import { ChatRoom } from './components/chat/ChatRoom';
import { GuestRoute, ProtectedRoute } from './components/ProtectedRoute';
import { SocketProvider } from './realtime/SocketProvider';

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<GuestRoute />}>
        <Route path="/login" element={<Login />} />
        <Route path="/register" element={<Register />} />
      </Route>
      <Route element={<ProtectedRoute />}>
        <Route path="/" element={<ChatRoom />} />
        <Route path="/rooms/:room" element={<ChatRoom />} />
        <Route path={SESSIONS_PATH} element={<SessionsPage />} />
      </Route>
      <Route path="*" element={<Navigate to="/" replace />} />
    </Routes>
  );
}

export default function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <SocketProvider>
          <AppRoutes />
        </SocketProvider>
      </AuthProvider>
    </BrowserRouter>
  );
}
