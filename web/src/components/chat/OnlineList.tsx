interface OnlineListProps {
  users: string[];
  me: string | null;
}

export function OnlineList({ users, me }: OnlineListProps) {
  return (
    <section className="sidebar-section online" aria-labelledby="online-heading">
      <div className="sidebar-heading-row">
        <h2 id="online-heading" className="sidebar-heading">
          Online
        </h2>
        <span className="count" aria-hidden="true">
          {users.length}
        </span>
      </div>
      <ul className="online-list" aria-label="Online">
        {users.map((name) => (
          <li key={name} className={name === me ? 'online-user me' : 'online-user'}>
            {name}
          </li>
        ))}
      </ul>
    </section>
  );
}
